// Memory, reported (no goal): what one cached token and one open pooled connection cost on the
// JavaScript heap (plus `external`, where Buffers live), next to the plain driver.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createTokenProvider } from '@rds-iam/core'
import { createPool as iamMysqlPool } from '@rds-iam/mysql2/promise'
import { Pool as IamPool } from '@rds-iam/pg'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { BENCH_USER, ROUNDS } from './bench-config.js'
import type { EmulatorChild } from './emulator-child.js'
import { betterRatio, format, interleave } from './measure.js'
import type { BenchRow } from './report.js'

setFlagsFromString('--expose-gc')
// `gc` is only put on a context created after the flag is set.
const gc = runInNewContext('gc') as () => void

/** Heap plus external bytes after two full collections (one frees, the next runs finalizers' garbage). */
function settledBytes(): number {
  gc()
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}

const credentials = { accessKeyId: 'AKIABENCHEXAMPLE0002', secretAccessKey: 'bench-secret-not-real' }

/** Bytes per cached token: N providers for N users, each holding one token in the shared cache. */
export async function tokenEntryBytes(entries = 2000): Promise<{ perEntry: number; tokenLength: number }> {
  const target = {
    hostname: 'mem.abc123xyz.eu-west-1.rds.amazonaws.com',
    port: 5432,
    region: 'eu-west-1',
    credentials,
  }
  const providers: Array<ReturnType<typeof createTokenProvider>> = []
  let token = ''
  const before = settledBytes()
  for (let i = 0; i < entries; i++) {
    const provider = createTokenProvider({ ...target, username: `mem_${process.pid}_${i}` })
    token = await provider.getToken()
    providers.push(provider)
  }
  const after = settledBytes()
  // Keep the providers alive until after the measurement.
  if (providers.length !== entries) throw new Error('bench: providers were lost')
  return { perEntry: (after - before) / entries, tokenLength: token.length }
}

interface Holder {
  /** Checks out `count` more connections and keeps them open. */
  open(count: number): Promise<void>
  close(): Promise<void>
}

/**
 * Bytes per open connection as a slope: heap with `base + extra` connections held minus heap with
 * `base` held, over `extra`. Fixed costs (the pool, the driver loaded on first use, TLS contexts)
 * and garbage left by earlier rounds cancel out.
 */
async function perConnectionBytes(holder: Holder, base: number, extra: number): Promise<number> {
  try {
    await holder.open(base)
    const before = settledBytes()
    await holder.open(extra)
    const after = settledBytes()
    return (after - before) / extra
  } finally {
    await holder.close()
  }
}

export async function memoryBench(pgEmu: EmulatorChild, mysqlEmu: EmulatorChild): Promise<BenchRow[]> {
  const base = 2
  const extra = 16
  const n = base + extra
  const pgVia = {
    host: 'localhost',
    port: pgEmu.port,
    user: BENCH_USER,
    database: 'test',
    ssl: { ca: pgEmu.ca },
  }
  const myVia = {
    host: 'localhost',
    port: mysqlEmu.port,
    user: BENCH_USER,
    database: 'test',
    ssl: { ca: mysqlEmu.ca },
  }
  const pgIam = { region: pgEmu.region, credentials: pgEmu.credentials[0]!, maxNewConnectionsPerSecond: 0 }
  const myIam = {
    region: mysqlEmu.region,
    credentials: mysqlEmu.credentials[0]!,
    maxNewConnectionsPerSecond: 0,
  }
  const token = (emu: EmulatorChild) =>
    createTokenProvider({
      hostname: 'localhost',
      port: emu.port,
      username: BENCH_USER,
      region: emu.region,
      credentials: emu.credentials[0]!,
    }).getToken()
  const [pgToken, myToken] = await Promise.all([token(pgEmu), token(mysqlEmu)])

  const pgHolder = (pool: pg.Pool): Holder => {
    const held: pg.PoolClient[] = []
    return {
      open: async (count) => {
        held.push(...(await Promise.all(Array.from({ length: count }, () => pool.connect()))))
      },
      close: async () => {
        for (const c of held) c.release()
        await pool.end()
      },
    }
  }
  const mysqlHolder = (pool: mysql.Pool): Holder => {
    const held: mysql.PoolConnection[] = []
    return {
      open: async (count) => {
        held.push(...(await Promise.all(Array.from({ length: count }, () => pool.getConnection()))))
      },
      close: async () => {
        for (const c of held) c.release()
        await pool.end()
      },
    }
  }
  const subjects = {
    pgIam: () => perConnectionBytes(pgHolder(new IamPool({ ...pgVia, max: n, iam: pgIam })), base, extra),
    pgPlain: () =>
      perConnectionBytes(pgHolder(new pg.Pool({ ...pgVia, password: pgToken, max: n })), base, extra),
    myIam: () =>
      perConnectionBytes(
        mysqlHolder(iamMysqlPool({ ...myVia, connectionLimit: n, iam: myIam }) as unknown as mysql.Pool),
        base,
        extra,
      ),
    myPlain: () =>
      perConnectionBytes(
        mysqlHolder(
          mysql.createPool({ ...myVia, password: myToken, enableCleartextPlugin: true, connectionLimit: n }),
        ),
        base,
        extra,
      ),
  }
  // Heap figures move little with CPU load: three rounds are enough, and keep the run short.
  const measured = await interleave(Math.min(ROUNDS, 3), subjects)
  const entry = await tokenEntryBytes()
  const kb = (bytes: number) => `${format(bytes / 1024, 1)} KiB`
  return [
    {
      name: 'memory: per cached token entry',
      subject: '`@rds-iam/core` provider + its cached token, 2,000 users',
      subjectValue: `${format(entry.perEntry, 0)} B`,
      baseline: 'the token string alone (a static password the app holds)',
      baselineValue: `${entry.tokenLength} chars`,
      ratio: null,
      goal: 'report',
    },
    {
      name: 'memory: per open pooled connection (postgres)',
      subject: `\`@rds-iam/pg\` Pool, ${extra} more connections held`,
      subjectValue: kb(measured.pgIam.median),
      baseline: '`pg.Pool`, fixed token, same emulator',
      baselineValue: kb(measured.pgPlain.median),
      // > 1 means the subject uses less memory than the baseline.
      ratio: betterRatio(measured.pgIam.median, measured.pgPlain.median, 'time'),
      goal: 'report',
    },
    {
      name: 'memory: per open pooled connection (mysql)',
      subject: `\`@rds-iam/mysql2\` pool, ${extra} more connections held`,
      subjectValue: kb(measured.myIam.median),
      baseline: 'mysql2 pool, fixed token, same emulator',
      baselineValue: kb(measured.myPlain.median),
      ratio: betterRatio(measured.myIam.median, measured.myPlain.median, 'time'),
      goal: 'report',
    },
  ]
}
