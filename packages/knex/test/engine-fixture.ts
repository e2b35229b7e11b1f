import { randomBytes } from 'node:crypto'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import {
  APP_USER,
  type Engine,
  howToStart,
  openRaw,
  RAW_USER,
  type RawDatabase,
  TEST_URLS,
} from '@rds-iam/testkit'

/** One emulator in front of an engine, its test key, and a raw connection that bypasses knex. */
export interface EngineFixture {
  engine: Engine
  emu: Emulator
  raw: RawDatabase
  key: { accessKeyId: string; secretAccessKey: string }
  database: string
  /** A knex connection object for a fresh IAM user (its own token cache) on this emulator. */
  connection(extra?: Record<string, unknown>): Record<string, unknown>
  close(): Promise<void>
}

/**
 * Starts the emulator for `engine` (PGlite embedded, or in front of the local PostgreSQL /
 * MariaDB) and checks the raw connection, failing with the command that starts a missing service.
 */
export async function startEngine(engine: Engine): Promise<EngineFixture> {
  const key = {
    accessKeyId: `AKIAKNEX${randomBytes(6).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
  }
  const emu = await startEmulator({
    engine: engine === 'mysql' ? 'mysql' : 'postgres',
    upstream: engine === 'pglite' ? undefined : TEST_URLS[engine],
    credentials: [key],
    policy: [{ accessKeyId: key.accessKeyId, users: [`${APP_USER}_*`, RAW_USER] }],
  })
  const raw = openRaw(engine, emu)
  try {
    await raw.exec('select 1')
  } catch (err) {
    await raw.close()
    await emu.stop()
    throw new Error(`${engine} is not reachable: ${String(err)}. Fix: ${howToStart(engine)}`, { cause: err })
  }
  const database = engine === 'pglite' ? 'postgres' : new URL(TEST_URLS[engine]).pathname.slice(1) || 'test'
  return {
    engine,
    emu,
    raw,
    key,
    database,
    connection: (extra = {}) => ({
      host: emu.host,
      port: emu.port,
      user: `${APP_USER}_${randomBytes(4).toString('hex')}`,
      database,
      ssl: { ca: emu.ca },
      iam: {
        region: emu.region,
        credentials: key,
        retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 50 },
      },
      ...extra,
    }),
    close: async () => {
      await raw.close()
      await emu.stop()
    },
  }
}

/** The knex client name for an engine. */
export const clientFor = (engine: Engine): 'pg' | 'mysql2' => (engine === 'mysql' ? 'mysql2' : 'pg')
