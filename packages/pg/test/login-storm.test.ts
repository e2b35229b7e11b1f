import { isRdsIamError } from '@rds-iam/core'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Pool } from '../src/index.js'

// Issue 8, item 1 (pg part): when every login is refused (an IAM policy that denies the user),
// each caller costs at most maxAttempts logins and every caller settles with RDS_IAM_AUTH_FAILED.

const ALLOWED = 'storm_allowed'
const DENIED = 'storm_denied'

describe('pg pool: every login refused', () => {
  let emu: Emulator
  beforeAll(async () => {
    const key = { accessKeyId: 'AKIASTORMTEST0000001', secretAccessKey: 'storm-secret-key' }
    emu = await startEmulator({
      engine: 'postgres',
      upstream: TEST_URLS.postgres,
      credentials: [key],
      policy: [{ accessKeyId: key.accessKeyId, users: [ALLOWED] }],
    })
  })
  afterAll(() => emu?.stop())

  test('200 concurrent pool.query() on max 10 → 200 RDS_IAM_AUTH_FAILED, ≤ 600 logins, no other outcome', async () => {
    const pool = new Pool({
      host: 'localhost',
      port: emu.port,
      user: DENIED,
      database: 'test',
      ssl: { ca: emu.ca },
      max: 10,
      iam: {
        region: emu.region,
        credentials: emu.credentials[0]!,
        retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
        // The storm is the subject: the limiter would only spread it out.
        maxNewConnectionsPerSecond: 0,
      },
    })
    const before = emu.stats()
    try {
      const results = await Promise.allSettled(Array.from({ length: 200 }, () => pool.query('select 1')))
      const codes = results.map((r) =>
        r.status === 'rejected' && isRdsIamError(r.reason) ? r.reason.code : String(r.status),
      )
      expect(codes).toEqual(Array(200).fill('RDS_IAM_AUTH_FAILED'))
      const after = emu.stats()
      const logins = after.rejected.NotAuthorized - before.rejected.NotAuthorized
      expect(logins).toBeGreaterThan(0)
      expect(logins).toBeLessThanOrEqual(600)
      expect(after.accepted).toBe(before.accepted)
      const hint = (results[0] as PromiseRejectedResult).reason.hint as string
      expect(hint).toContain('rds_iam')
      expect(hint).not.toContain('AWSAuthenticationPlugin') // pg hints name only PostgreSQL
    } finally {
      await pool.end()
    }
  })
})
