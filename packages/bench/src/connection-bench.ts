import { createTokenProvider } from '@rds-iam/core'
import { startEmulator } from '@rds-iam/emulator'
import { Pool as IamPool } from '@rds-iam/pg'
import pg from 'pg'
import { format, throughput } from './measure.js'
import type { BenchRow } from './report.js'

const PG_URL = process.env.RDS_IAM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const DURATION_MS = Number(process.env.RDS_IAM_BENCH_MS ?? 3000)
const CONCURRENCY = 8

export async function connectionBench(): Promise<BenchRow[]> {
  const emu = await startEmulator({ engine: 'postgres', upstream: PG_URL })
  try {
    const credentials = emu.credentials[0]!
    const user = 'bench_user'
    const iam = { region: emu.region, credentials }
    const provider = createTokenProvider({ hostname: 'localhost', port: emu.port, username: user, ...iam })
    const viaEmulator = { host: 'localhost', port: emu.port, user, database: 'test', ssl: { ca: emu.ca } }

    const connectOnce = async (config: pg.ClientConfig) => {
      const client = new pg.Client(config)
      await client.connect()
      await client.end()
    }

    const direct = await throughput(DURATION_MS, CONCURRENCY, () => connectOnce({ connectionString: PG_URL }))
    const iamConnect = await throughput(DURATION_MS, CONCURRENCY, async () =>
      connectOnce({ ...viaEmulator, password: await provider.getToken() }),
    )

    // Same emulator, same TLS: a token fetched once and passed as a plain string (what a hand-written
    // hook does) against the adapter, which asks the shared provider on every new connection.
    const staticToken = await provider.getToken()
    const staticConnect = await throughput(DURATION_MS, CONCURRENCY, () =>
      connectOnce({ ...viaEmulator, password: staticToken }),
    )
    const adapterConnect = await throughput(DURATION_MS, CONCURRENCY, async () => {
      const client = new IamPool({ ...viaEmulator, max: 1, iam })
      await client.query('select 1')
      await client.end()
    })

    const plainPool = new pg.Pool({ ...viaEmulator, password: staticToken, max: 10 })
    const iamPool = new IamPool({ ...viaEmulator, max: 10, iam })
    const plainQueries = await throughput(DURATION_MS, 16, () => plainPool.query('select 1'))
    const iamQueries = await throughput(DURATION_MS, 16, () => iamPool.query('select 1'))
    await Promise.all([plainPool.end(), iamPool.end()])

    return [
      {
        name: 'emulator: new connections/s',
        subject: 'TLS + IAM-verified connect via emulator',
        subjectValue: `${format(iamConnect.perSecond)}/s`,
        baseline: 'plain connect straight to PostgreSQL 15',
        baselineValue: `${format(direct.perSecond)}/s`,
        ratio: iamConnect.perSecond / direct.perSecond,
        goal: '≥ 1,000/s',
        met: iamConnect.perSecond >= 1000,
      },
      {
        name: 'connect: adapter vs static password',
        subject: '`@rds-iam/pg` Pool, first query (token per connection)',
        subjectValue: `${format(adapterConnect.perSecond)}/s`,
        baseline: 'pg.Client with a fixed token string, same emulator',
        baselineValue: `${format(staticConnect.perSecond)}/s`,
        ratio: adapterConnect.perSecond / staticConnect.perSecond,
      },
      {
        name: 'pooled queries',
        subject: '`@rds-iam/pg` Pool (max 10) `select 1`',
        subjectValue: `${format(iamQueries.perSecond)} q/s`,
        baseline: '`pg.Pool` (max 10), same emulator',
        baselineValue: `${format(plainQueries.perSecond)} q/s`,
        ratio: iamQueries.perSecond / plainQueries.perSecond,
      },
    ]
  } finally {
    await emu.stop()
  }
}
