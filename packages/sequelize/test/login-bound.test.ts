import { randomBytes } from 'node:crypto'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { selectedEngines, TEST_URLS } from '@rds-iam/testkit'
import type { Options } from 'sequelize'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { RdsIamError, withIam } from '../src/index.js'
import { type HarnessDialect, optionsFor, SEQUELIZE_VERSIONS } from './sequelize-harness.js'

// Issue 8's rule for refused logins: a caller costs at most `maxAttempts` logins, an error given up
// on is never retried at any depth, and every caller settles. sequelize-pool used to start a new
// create after each failed one while other creates still covered the waiters, so a burst of N
// callers made up to 2N - 1 creates (each a full retry run). The emulator counts every login.

const MAX_ATTEMPTS = 4
const RETRY = { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 5, maxDelayMs: 20 }
const CALLERS = 10
const DIALECTS: { dialect: HarnessDialect; engine: 'postgres' | 'mysql' }[] = [
  { dialect: 'postgres', engine: 'postgres' },
  { dialect: 'mysql', engine: 'mysql' },
]
const selected = new Set(selectedEngines(['postgres', 'mysql']))
const logins = (emu: Emulator) =>
  emu.stats().accepted + Object.values(emu.stats().rejected).reduce((a, b) => a + b, 0)

for (const { dialect, engine } of DIALECTS.filter((d) => selected.has(d.engine))) {
  for (const [version, Sequelize] of Object.entries(SEQUELIZE_VERSIONS)) {
    describe(`sequelize ${version}, ${dialect}: logins per caller under refusal`, () => {
      let emu: Emulator
      beforeAll(async () => {
        emu = await startEmulator({ engine, upstream: TEST_URLS[engine] })
      })
      afterEach(() => emu?.faults.reset())
      afterAll(() => emu?.stop())

      const open = (max: number, extra: Partial<Options> = {}) =>
        new Sequelize(
          withIam(
            optionsFor(
              {
                host: emu.host,
                port: emu.port,
                user: `bound_${randomBytes(4).toString('hex')}`,
                database: new URL(TEST_URLS[engine]).pathname.slice(1) || 'test',
                ssl: { ca: emu.ca },
                iam: { region: emu.region, credentials: emu.credentials[0]!, retry: RETRY },
              },
              dialect,
              max,
              extra,
            ),
          ),
        )
      const select = (s: InstanceType<typeof Sequelize>) =>
        s.query('select 1 as one', { type: 'SELECT' as never }).then(
          () => 'ok' as const,
          (err: unknown) => err,
        )
      const expectAllGaveUp = (results: unknown[]) => {
        for (const r of results) {
          expect(r).toBeInstanceOf(RdsIamError)
          expect((r as RdsIamError).code).toBe('RDS_IAM_AUTH_FAILED')
        }
      }

      test(`${CALLERS} concurrent callers, every login refused: ≤ ${CALLERS} × maxAttempts logins, all RDS_IAM_AUTH_FAILED, then recovery`, async () => {
        const sequelize = open(CALLERS, {
          databaseVersion: dialect === 'postgres' ? '15.0.0' : '10.11.0',
        } as never)
        try {
          emu.faults.rejectNext(1e6)
          const before = logins(emu)
          const results = await Promise.all(Array.from({ length: CALLERS }, () => select(sequelize)))
          const made = logins(emu) - before
          expectAllGaveUp(results)
          expect(made).toBeLessThanOrEqual(CALLERS * MAX_ATTEMPTS)
          // Each caller's own create ran its whole policy: the bound is met, not undercut.
          expect(made).toBe(CALLERS * MAX_ATTEMPTS)
          emu.faults.reset()
          expect(await select(sequelize)).toBe('ok')
        } finally {
          await sequelize.close()
        }
      })

      test('a second burst arriving while the first is still retrying: ≤ callers × maxAttempts in all', async () => {
        const sequelize = open(2 * CALLERS, {
          databaseVersion: dialect === 'postgres' ? '15.0.0' : '10.11.0',
        } as never)
        try {
          emu.faults.rejectNext(1e6)
          const before = logins(emu)
          const first = Array.from({ length: CALLERS }, () => select(sequelize))
          // The second burst starts once the first has been refused at least once per caller.
          while (logins(emu) - before < CALLERS + 1) await new Promise((r) => setTimeout(r, 2))
          const second = Array.from({ length: CALLERS }, () => select(sequelize))
          const results = await Promise.all([...first, ...second])
          expectAllGaveUp(results)
          expect(logins(emu) - before).toBeLessThanOrEqual(2 * CALLERS * MAX_ATTEMPTS)
        } finally {
          await sequelize.close()
        }
      })

      test('with the version probe on (no databaseVersion): the probe gives up once for every waiting caller', async () => {
        const sequelize = open(CALLERS)
        try {
          emu.faults.rejectNext(1e6)
          const before = logins(emu)
          const results = await Promise.all(Array.from({ length: CALLERS }, () => select(sequelize)))
          expectAllGaveUp(results)
          // Concurrent callers share Sequelize's one probe; its give-up settles them all.
          expect(logins(emu) - before).toBeLessThanOrEqual(MAX_ATTEMPTS)
          emu.faults.reset()
          expect(await select(sequelize)).toBe('ok')
        } finally {
          await sequelize.close()
        }
      })

      test('more callers than pool.max and one refused login: every caller is served, one create per missing connection', async () => {
        const sequelize = open(3, { databaseVersion: dialect === 'postgres' ? '15.0.0' : '10.11.0' } as never)
        try {
          emu.faults.rejectNext(1)
          const before = emu.stats()
          const results = await Promise.all(Array.from({ length: CALLERS }, () => select(sequelize)))
          expect(results).toEqual(Array.from({ length: CALLERS }, () => 'ok'))
          const after = emu.stats()
          expect(after.accepted - before.accepted).toBe(3)
          expect(after.rejected.InvalidToken - before.rejected.InvalidToken).toBe(1)
        } finally {
          await sequelize.close()
        }
      })
    })
  }
}
