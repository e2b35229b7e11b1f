import { once } from 'node:events'
import { connect as connectTcp } from 'node:net'
import { connect as connectTls } from 'node:tls'
import { createTokenProvider } from '@rds-iam/core'
import { Pool as IamPool } from '@rds-iam/pg'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { startEmulatorChild } from './emulator-child.js'
import { format, throughput } from './measure.js'
import type { BenchRow } from './report.js'

const PG_URL = process.env.RDS_IAM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const MYSQL_URL = process.env.RDS_IAM_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'
const DURATION_MS = Number(process.env.RDS_IAM_BENCH_MS ?? 3000)
const CONCURRENCY = 8

const connectPg = async (config: pg.ClientConfig) => {
  const client = new pg.Client(config)
  await client.connect()
  await client.end()
}

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])

/** SSLRequest and a TLS handshake with the emulator, then hang up: the floor under any IAM login. */
async function tlsHandshakeOnly(port: number, ca: string): Promise<void> {
  const socket = connectTcp(port, 'localhost')
  await once(socket, 'connect')
  socket.write(SSL_REQUEST)
  await once(socket, 'data')
  // A fresh `ca` per connection, as pg does, so client-side costs match the other rows.
  const tls = connectTls({ socket, servername: 'localhost', ca })
  await once(tls, 'secureConnect')
  tls.destroy()
}

export async function postgresConnectionBench(): Promise<BenchRow[]> {
  const emu = await startEmulatorChild('postgres', PG_URL)
  try {
    const user = 'bench_user'
    const iam = { region: emu.region, credentials: emu.credentials[0]! }
    const provider = createTokenProvider({ hostname: 'localhost', port: emu.port, username: user, ...iam })
    const viaEmulator = { host: 'localhost', port: emu.port, user, database: 'test', ssl: { ca: emu.ca } }

    const direct = await throughput(DURATION_MS, CONCURRENCY, () => connectPg({ connectionString: PG_URL }))
    const cpuBefore = await emu.cpuMicros()
    const iamConnect = await throughput(DURATION_MS, CONCURRENCY, async () =>
      connectPg({ ...viaEmulator, password: await provider.getToken() }),
    )
    // The client (pg builds a TLS context and checks the certificate per connection) shares the two
    // cores with the emulator, so also report what one emulator CPU-second can carry.
    const cpuPerConnection = ((await emu.cpuMicros()) - cpuBefore) / iamConnect.completed

    // The emulator's own share: TLS handshake plus SigV4 verification, without an upstream backend
    // (PostgreSQL forks a process per connection, which bounds every figure that includes it).
    const forged = createTokenProvider({
      hostname: 'localhost',
      port: emu.port,
      username: user,
      region: emu.region,
      credentials: { accessKeyId: iam.credentials.accessKeyId, secretAccessKey: 'not-the-secret' },
    })
    const forgedToken = await forged.getToken()
    const verifyOnly = await throughput(DURATION_MS, CONCURRENCY, () =>
      connectPg({ ...viaEmulator, password: forgedToken }).then(
        () => {
          throw new Error('bench: a forged token was accepted')
        },
        (err: { code?: string }) => {
          if (err.code !== '28000') throw err
        },
      ),
    )

    const tlsOnly = await throughput(DURATION_MS, CONCURRENCY, () => tlsHandshakeOnly(emu.port, emu.ca))

    // Same emulator, same TLS: a token fetched once and passed as a plain string (what a hand-written
    // hook does) against the adapter, which asks the shared provider on every new connection.
    const staticToken = await provider.getToken()
    const staticConnect = await throughput(DURATION_MS, CONCURRENCY, () =>
      connectPg({ ...viaEmulator, password: staticToken }),
    )
    const adapterConnect = await throughput(DURATION_MS, CONCURRENCY, async () => {
      const pool = new IamPool({ ...viaEmulator, max: 1, iam })
      await pool.query('select 1')
      await pool.end()
    })

    const plainPool = new pg.Pool({ ...viaEmulator, password: staticToken, max: 10 })
    const iamPool = new IamPool({ ...viaEmulator, max: 10, iam })
    const plainQueries = await throughput(DURATION_MS, 16, () => plainPool.query('select 1'))
    const iamQueries = await throughput(DURATION_MS, 16, () => iamPool.query('select 1'))
    await Promise.all([plainPool.end(), iamPool.end()])

    return [
      {
        name: 'emulator (postgres): new connections/s',
        subject: 'TLS + IAM-verified connect via emulator',
        subjectValue: `${format(iamConnect.perSecond)}/s`,
        baseline: 'plain connect straight to PostgreSQL 15',
        baselineValue: `${format(direct.perSecond)}/s`,
        ratio: iamConnect.perSecond / direct.perSecond,
        goal: '≥ 1,000/s',
        met: iamConnect.perSecond >= 1000,
      },
      {
        name: 'emulator (postgres): CPU capacity',
        subject: 'IAM connections per emulator CPU-second',
        subjectValue: `${format(1e6 / cpuPerConnection)}/s (${format(cpuPerConnection / 1000, 2)} ms CPU each)`,
        baseline: 'plain connect straight to PostgreSQL 15',
        baselineValue: `${format(direct.perSecond)}/s`,
        ratio: 1e6 / cpuPerConnection / direct.perSecond,
        goal: '≥ 1,000/s',
        met: 1e6 / cpuPerConnection >= 1000,
      },
      {
        name: 'emulator (postgres): front only',
        subject: 'TLS + startup + SigV4 verification, refused (no upstream)',
        subjectValue: `${format(verifyOnly.perSecond)}/s`,
        baseline: 'TLS handshake alone with the same emulator',
        baselineValue: `${format(tlsOnly.perSecond)}/s`,
        ratio: verifyOnly.perSecond / tlsOnly.perSecond,
        goal: '≥ 1,000/s',
        met: verifyOnly.perSecond >= 1000,
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

export async function mysqlConnectionBench(): Promise<BenchRow[]> {
  const emu = await startEmulatorChild('mysql', MYSQL_URL)
  try {
    const user = 'bench_user'
    const provider = createTokenProvider({
      hostname: 'localhost',
      port: emu.port,
      username: user,
      region: emu.region,
      credentials: emu.credentials[0]!,
    })
    const upstream = new URL(MYSQL_URL)
    const direct = await throughput(DURATION_MS, CONCURRENCY, async () => {
      const conn = await mysql.createConnection({
        host: upstream.hostname,
        port: Number(upstream.port || 3306),
        user: decodeURIComponent(upstream.username),
        password: decodeURIComponent(upstream.password),
        database: upstream.pathname.slice(1),
      })
      await conn.end()
    })
    const cpuBefore = await emu.cpuMicros()
    const iamConnect = await throughput(DURATION_MS, CONCURRENCY, async () => {
      const token = await provider.getToken()
      const conn = await mysql.createConnection({
        host: 'localhost',
        port: emu.port,
        user,
        database: upstream.pathname.slice(1),
        ssl: { ca: emu.ca },
        authPlugins: { mysql_clear_password: () => () => token },
      })
      await conn.end()
    })
    const cpuPerConnection = ((await emu.cpuMicros()) - cpuBefore) / iamConnect.completed
    return [
      {
        name: 'emulator (mysql): new connections/s',
        subject: 'TLS + IAM-verified connect via emulator',
        subjectValue: `${format(iamConnect.perSecond)}/s`,
        baseline: 'plain connect straight to MariaDB 10.11',
        baselineValue: `${format(direct.perSecond)}/s`,
        ratio: iamConnect.perSecond / direct.perSecond,
        goal: '≥ 1,000/s',
        met: iamConnect.perSecond >= 1000,
      },
      {
        name: 'emulator (mysql): CPU capacity',
        subject: 'IAM connections per emulator CPU-second',
        subjectValue: `${format(1e6 / cpuPerConnection)}/s (${format(cpuPerConnection / 1000, 2)} ms CPU each)`,
        baseline: 'plain connect straight to MariaDB 10.11',
        baselineValue: `${format(direct.perSecond)}/s`,
        ratio: 1e6 / cpuPerConnection / direct.perSecond,
        goal: '≥ 1,000/s',
        met: 1e6 / cpuPerConnection >= 1000,
      },
    ]
  } finally {
    await emu.stop()
  }
}
