import { Signer } from '@aws-sdk/rds-signer'
import type { Emulator } from '@rds-iam/emulator'
import mysql from 'mysql2/promise'
import pg from 'pg'
import type { Engine } from './conformance-types.js'
import { howToStart, TEST_URLS } from './engine-env.js'

/**
 * A connection that never goes through the adapter under test: results (row counts) are checked
 * here. PostgreSQL and MySQL are reached directly; PGlite lives inside the emulator, so it is
 * reached through the emulator with a token from `@aws-sdk/rds-signer` (not from rds-iam).
 */
export interface RawDatabase {
  exec(sql: string): Promise<void>
  count(table: string): Promise<number>
  /** The first column of the first row, as a number (e.g. `select count(distinct v) from t`). */
  scalar(sql: string): Promise<number>
  /** Every row of a query, as plain objects. */
  rows(sql: string): Promise<Record<string, unknown>[]>
  close(): Promise<void>
}

/** The IAM user the raw PGlite connection logs in as (allowed by the suite's policy). */
export const RAW_USER = 'rds_iam_raw'

interface RawSession {
  query(sql: string): Promise<Record<string, unknown>[]>
  close(): Promise<void>
}

const CONNECT_TIMEOUT_MS = 5000

/** Opens (lazily, reconnecting after a dropped connection) a raw session for `engine`. */
export function openRaw(engine: Engine, emu: Emulator): RawDatabase {
  let current: Promise<RawSession> | undefined
  const session = (): Promise<RawSession> => {
    current ??= connect(engine, emu, () => {
      current = undefined
    }).catch((err: unknown) => {
      current = undefined
      throw new Error(
        `${engine}: cannot reach the database for raw checks: ${String(err)}. Fix: ${howToStart(engine)}`,
        {
          cause: err,
        },
      )
    })
    return current
  }
  return {
    async exec(sql) {
      await (await session()).query(sql)
    },
    async count(table) {
      const rows = await (await session()).query(`select count(*) as n from ${table}`)
      return Number(rows[0]?.n)
    },
    async scalar(sql) {
      const rows = await (await session()).query(sql)
      const first = rows[0]
      return Number(first ? Object.values(first)[0] : Number.NaN)
    },
    async rows(sql) {
      return (await session()).query(sql)
    },
    async close() {
      const open = current
      current = undefined
      if (open) await (await open.catch(() => undefined))?.close()
    },
  }
}

async function connect(engine: Engine, emu: Emulator, onLost: () => void): Promise<RawSession> {
  if (engine === 'mysql') {
    const conn = await mysql.createConnection({ uri: TEST_URLS.mysql, connectTimeout: CONNECT_TIMEOUT_MS })
    conn.on('error', onLost)
    return {
      query: async (sql) => (await conn.query(sql))[0] as Record<string, unknown>[],
      close: () => conn.end().catch(() => conn.destroy()),
    }
  }
  let config: pg.ClientConfig
  if (engine === 'postgres' || engine === 'dsql') {
    config = { connectionString: TEST_URLS.postgres, connectionTimeoutMillis: CONNECT_TIMEOUT_MS }
  } else {
    const credentials = emu.credentials[0]!
    const password = await new Signer({
      hostname: emu.host,
      port: emu.port,
      username: RAW_USER,
      region: emu.region,
      credentials,
    }).getAuthToken()
    config = {
      host: emu.host,
      port: emu.port,
      user: RAW_USER,
      database: 'postgres',
      password,
      ssl: { ca: emu.ca },
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    }
  }
  const client = new pg.Client(config)
  client.on('error', onLost)
  client.on('end', onLost)
  await client.connect()
  return {
    query: async (sql) => (await client.query(sql)).rows as Record<string, unknown>[],
    close: () => client.end().catch(() => undefined),
  }
}
