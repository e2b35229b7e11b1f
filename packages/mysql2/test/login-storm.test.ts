import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import type { Pool } from 'mysql2'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createPool, type Mysql2ModuleLike, RdsIamError } from '../src/index.js'
import { createPool as createPromisePool } from '../src/promise.js'

// Issue 8 item 1: when every login is refused, mysql2's pool hands each queued waiter back through
// `pool.getConnection` (our override), so retry loops used to nest and an exhausted
// RDS_IAM_AUTH_FAILED was retried again: ~1,500 logins and 20 callers pending forever. Each caller
// must get RDS_IAM_AUTH_FAILED after at most `maxAttempts` logins.
const VERSIONS: [string, Mysql2ModuleLike | undefined][] = [
  ['mysql2 3.9.0', undefined],
  ['mysql2 latest', createRequire(import.meta.url)('mysql2-latest') as Mysql2ModuleLike],
]
const CALLERS = 20
const MAX_ATTEMPTS = 3

describe.each(VERSIONS)('%s: pool login storm when every login is refused', (_label, mysql2) => {
  let emu: Emulator
  beforeAll(async () => {
    // The key may connect only as `storm_allowed`: every login below is policy-denied.
    const key = { accessKeyId: 'AKIASTORMTEST0000001', secretAccessKey: randomBytes(20).toString('hex') }
    emu = await startEmulator({
      engine: 'mysql',
      upstream: TEST_URLS.mysql,
      credentials: [key],
      policy: [{ accessKeyId: key.accessKeyId, users: ['storm_allowed'] }],
    })
  })
  afterAll(() => emu?.stop())

  let n = 0
  const config = () => ({
    host: 'localhost',
    port: emu.port,
    user: `storm_denied_${n++}`,
    database: 'test',
    ssl: { ca: emu.ca },
    connectionLimit: 10,
    iam: {
      region: emu.region,
      credentials: emu.credentials[0]!,
      retry: { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 1, maxDelayMs: 5 },
    },
  })
  const refused = () => emu.stats().rejected.NotAuthorized

  test('callback API: 20 pool.query() on 10 connections → 20 RDS_IAM_AUTH_FAILED, ≤ 3 logins each', async () => {
    const pool: Pool = createPool(config(), { mysql2 })
    const before = refused()
    try {
      const results = await Promise.allSettled(
        Array.from(
          { length: CALLERS },
          () =>
            new Promise((resolve, reject) =>
              pool.query('select 1', (err, rows) => (err ? reject(err) : resolve(rows))),
            ),
        ),
      )
      expectAllRefused(results)
      const logins = refused() - before
      expect(logins).toBeGreaterThanOrEqual(CALLERS)
      expect(logins).toBeLessThanOrEqual(CALLERS * MAX_ATTEMPTS)
    } finally {
      await new Promise<void>((resolve) => pool.end(() => resolve()))
    }
  })

  test('callback API: getConnection waiters all settle the same way', async () => {
    const pool: Pool = createPool(config(), { mysql2 })
    const before = refused()
    try {
      const results = await Promise.allSettled(
        Array.from(
          { length: CALLERS },
          () =>
            new Promise((resolve, reject) =>
              pool.getConnection((err, conn) => {
                if (err) return reject(err)
                conn.release()
                resolve(conn)
              }),
            ),
        ),
      )
      expectAllRefused(results)
      expect(refused() - before).toBeLessThanOrEqual(CALLERS * MAX_ATTEMPTS)
    } finally {
      await new Promise<void>((resolve) => pool.end(() => resolve()))
    }
  })

  test('promise API: 20 pool.query() → 20 RDS_IAM_AUTH_FAILED, ≤ 3 logins each', async () => {
    const pool = createPromisePool(config(), { mysql2 })
    const before = refused()
    try {
      const results = await Promise.allSettled(
        Array.from({ length: CALLERS }, (_, i) =>
          i % 2 === 0 ? pool.query('select 1') : pool.execute('select ? as v', [i]),
        ),
      )
      expectAllRefused(results)
      const logins = refused() - before
      expect(logins).toBeGreaterThanOrEqual(CALLERS)
      expect(logins).toBeLessThanOrEqual(CALLERS * MAX_ATTEMPTS)
    } finally {
      await pool.end()
    }
  })
})

function expectAllRefused(results: PromiseSettledResult<unknown>[]): void {
  expect(results).toHaveLength(CALLERS)
  for (const result of results) {
    expect(result.status).toBe('rejected')
    const reason = (result as PromiseRejectedResult).reason
    expect(reason).toBeInstanceOf(RdsIamError)
    expect((reason as RdsIamError).code).toBe('RDS_IAM_AUTH_FAILED')
    expect(String((reason as RdsIamError).message)).toContain(`${MAX_ATTEMPTS} attempts`)
  }
}
