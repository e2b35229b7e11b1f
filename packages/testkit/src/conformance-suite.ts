import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { inspect } from 'node:util'
import { RdsIamError } from '@rds-iam/core'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import type {
  ConformanceCase,
  ConformanceHarness,
  ConnectionHandle,
  ConnectionSettings,
  Engine,
  PoolHandle,
  Row,
} from './conformance-types.js'
import { howToStart, selectedEngines, TEST_URLS } from './engine-env.js'
import { openRaw, RAW_USER, type RawDatabase } from './raw-database.js'

/**
 * Prefix of the IAM users the cases log in as (the emulator policy allows `rds_iam_app*`). Each
 * pool gets its own user: core shares one token cache per endpoint × user × region × credentials
 * across the process, so a fresh user is what makes a pool's cache cold and its counters its own.
 */
export const APP_USER = 'rds_iam_app'
/** A user the policy does not allow: its logins fail as NotAuthorized. */
export const DENIED_USER = 'rds_iam_denied'

// Small, bounded retry delays keep failure cases fast without changing what they prove.
const RETRY = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 50 }
// X-Amz-Date has one-second resolution; this wait makes any token older than a 1 s cap.
const EXPIRY_CAP_SECONDS = 1
const PAST_CAP_MS = 2100
// After a failover the client side learns of closed sockets asynchronously (TLS close_notify, FIN).
const DRIVER_NOTICE_MS = 200
const TOKEN_MARKERS = ['X-Amz-Signature', 'X-Amz-Credential', 'Action=connect', 'Action=DbConnect']
// A fresh cluster id per engine run: DSQL tokens name no port, so two emulators with one cluster
// name would share core's token cache for the role admin.
const dsqlCluster = (): string => `${randomBytes(13).toString('hex')}.dsql.us-east-1.on.aws`

interface EngineContext {
  emu: Emulator
  raw: RawDatabase
  key: { accessKeyId: string; secretAccessKey: string }
  database: string
}

/**
 * Runs every conformance case (DESIGN §7) for one adapter against every selected engine, each
 * behind the RDS emulator. Results are checked independently of the adapter: rows through a raw
 * connection, signings through core's provider `stats()`, logins through the emulator's `stats()`.
 *
 * @example
 * ```ts
 * runConformance({ adapter: 'pg', engines: ['postgres'], open: async (s, o) => pgHandle(s, o) })
 * ```
 */
export function runConformance(harness: ConformanceHarness): void {
  for (const engine of selectedEngines(harness.engines)) {
    describeEngine(harness, engine)
  }
}

function describeEngine(h: ConformanceHarness, engine: Engine): void {
  const name = `${h.adapter} on ${engine}`
  let ctx: EngineContext | undefined
  // Kept and rethrown by every case, so an unreachable database fails each test by name
  // (vitest would report the cases of a failed beforeAll as skipped).
  let startError: unknown
  const c = (): EngineContext => {
    if (ctx) return ctx
    const reason = startError instanceof Error ? startError.message : String(startError)
    throw new Error(`${name}: the engine did not start: ${reason}. Fix: ${howToStart(engine)}`, {
      cause: startError,
    })
  }
  const dsql = engine === 'dsql'
  // DSQL: the client connects to the emulator and signs for the cluster host (as through a tunnel),
  // which is also the name the certificate is checked against.
  const signing = (): { signingHostname?: string } => (dsql ? { signingHostname: c().emu.endpoint } : {})
  const settings = (over: Partial<ConnectionSettings> = {}): ConnectionSettings => {
    const { emu, key, database } = c()
    return {
      host: emu.host,
      port: emu.port,
      user: `${APP_USER}_${randomBytes(4).toString('hex')}`,
      database,
      ssl: { ca: emu.ca },
      iam: { region: emu.region, credentials: key, retry: RETRY, ...signing() },
      ...over,
    }
  }
  const caseTest = (id: ConformanceCase, title: string, fn: () => Promise<void>): void => {
    const reason = h.capabilities?.[engine]?.[id]
    if (reason) test.skip(`${title} (not run for ${engine}: ${reason})`, fn)
    else test(title, fn)
  }
  const withPool = async (
    max: number,
    fn: (pool: PoolHandle) => Promise<void>,
    over?: Partial<ConnectionSettings>,
  ) => {
    const pool = await h.open(settings(over), { max })
    try {
      await fn(pool)
    } finally {
      await pool.close()
    }
  }
  const withTable = async (fn: (table: string) => Promise<void>) => {
    const table = `rds_iam_ck_${randomBytes(5).toString('hex')}`
    const { raw } = c()
    const id = engine === 'mysql' ? 'id int auto_increment primary key' : 'id serial primary key'
    await raw.exec(`create table ${table} (${id}, v integer not null)`)
    try {
      await fn(table)
    } finally {
      await raw.exec(`drop table if exists ${table}`)
    }
  }

  describe(name, () => {
    beforeAll(async () => {
      const key = {
        accessKeyId: `AKIATESTKIT${randomBytes(5).toString('hex').toUpperCase().slice(0, 9)}`,
        secretAccessKey: randomBytes(30).toString('base64'),
      }
      let emu: Emulator
      try {
        emu = dsql
          ? await startEmulator({
              engine: 'dsql',
              endpoint: dsqlCluster(),
              upstream: TEST_URLS.dsql,
              credentials: [key],
              admins: [key.accessKeyId],
              // AWS IAM GRANT rds_iam_app_* TO the test key's principal; rds_iam_denied is not mapped.
              roles: { [`${APP_USER}_*`]: [key.accessKeyId] },
            })
          : await startEmulator({
              engine: engine === 'mysql' ? 'mysql' : 'postgres',
              upstream: engine === 'pglite' ? undefined : TEST_URLS[engine],
              credentials: [key],
              policy: [{ accessKeyId: key.accessKeyId, users: [`${APP_USER}_*`, RAW_USER] }],
            })
      } catch (err) {
        startError = err
        return
      }
      const raw = openRaw(engine, emu)
      try {
        await raw.exec('select 1')
      } catch (err) {
        await raw.close()
        await emu.stop()
        startError = err
        return
      }
      const database =
        engine === 'pglite' ? 'postgres' : new URL(TEST_URLS[engine]).pathname.slice(1) || 'test'
      ctx = { emu, raw, key, database }
    })
    afterAll(async () => {
      await ctx?.raw.close()
      await ctx?.emu.stop()
    })
    beforeEach(() => {
      ctx?.emu.faults.reset()
    })

    describe(`${name}: connect`, () => {
      caseTest('tls-connect', 'connects over TLS and queries; no token in util.inspect', async () => {
        const { emu } = c()
        const before = emu.stats()
        await withPool(2, async (pool) => {
          const rows = await pool.query('select 1 as one')
          expect(Number(rows[0]?.one)).toBe(1)
          expect(pool.tokenStats().signed).toBe(1)
          expect(emu.stats().accepted - before.accepted).toBe(1)
          expectNoSecret(inspect(pool.inspectTarget(), { depth: 6 }), c().key.secretAccessKey)
        })
      })

      caseTest(
        'tls-required',
        'refuses ssl: false without insecure before any token is signed or sent',
        async () => {
          const { emu, key } = c()
          const before = emu.stats()
          let credentialCalls = 0
          const credentials = async () => {
            credentialCalls += 1
            return key
          }
          let pool: PoolHandle | undefined
          let error: unknown
          try {
            pool = await h.open(
              settings({ ssl: false, iam: { region: emu.region, credentials, retry: RETRY, ...signing() } }),
              {
                max: 1,
              },
            )
            await pool.query('select 1')
          } catch (err) {
            error = err
          } finally {
            await pool?.close()
          }
          expect(error).toBeInstanceOf(RdsIamError)
          expect((error as RdsIamError).code).toBe('RDS_IAM_INSECURE_TRANSPORT')
          expect((error as RdsIamError).hint).toMatch(/insecure/)
          expect(credentialCalls).toBe(0)
          const after = emu.stats()
          expect(after.accepted - before.accepted).toBe(0)
          expect(totalRejected(after) - totalRejected(before)).toBe(0)
          expect(after.protocolErrors - before.protocolErrors).toBe(0)
        },
      )
    })

    if (dsql) {
      describe(`${name}: DSQL roles`, () => {
        caseTest(
          'dsql-admin',
          'the role admin logs in with a DbConnectAdmin token; a forced expiry re-signs it',
          async () => {
            const { emu } = c()
            await withPool(
              2,
              async (pool) => {
                const before = emu.stats()
                const first = await pool.acquire()
                try {
                  expect(Number((await first.query('select 1 as one'))[0]?.one)).toBe(1)
                  expect(pool.tokenStats().signed).toBe(1)
                  emu.faults.maxTokenAge(EXPIRY_CAP_SECONDS)
                  await sleep(PAST_CAP_MS)
                  const second = await pool.acquire()
                  try {
                    expect(Number((await second.query('select 2 as two'))[0]?.two)).toBe(2)
                  } finally {
                    await second.release()
                  }
                } finally {
                  await first.release()
                }
                const after = emu.stats()
                expect(after.accepted - before.accepted).toBe(2)
                expect(after.rejected.ExpiredToken - before.rejected.ExpiredToken).toBe(1)
                expect(after.rejected.NotAuthorized - before.rejected.NotAuthorized).toBe(0)
                expect(pool.tokenStats().signed).toBe(2)
              },
              { user: 'admin' },
            )
          },
        )
      })
    }

    describe(`${name}: token refresh`, () => {
      caseTest('token-cache', 'many connections inside the cache window share one signing', async () => {
        const { emu } = c()
        const before = emu.stats()
        await withPool(6, async (pool) => {
          const held: ConnectionHandle[] = []
          try {
            for (let i = 0; i < 6; i++) held.push(await pool.acquire())
            for (const conn of held) expect(await conn.query('select 1 as one')).toHaveLength(1)
            expect(pool.tokenStats().signed).toBe(1)
            expect(pool.tokenStats().hits).toBeGreaterThanOrEqual(5)
            expect(emu.stats().accepted - before.accepted).toBe(6)
          } finally {
            for (const conn of held) await conn.release()
          }
        })
      })

      caseTest(
        'forced-expiry',
        'after forced expiry new connections get a new token; open ones keep working',
        async () => {
          const { emu } = c()
          await withPool(4, async (pool) => {
            const first = await pool.acquire()
            try {
              expect(Number((await first.query('select 1 as one'))[0]?.one)).toBe(1)
              const before = emu.stats()
              emu.faults.maxTokenAge(EXPIRY_CAP_SECONDS)
              await sleep(PAST_CAP_MS)
              const second = await pool.acquire()
              try {
                expect(Number((await second.query('select 2 as two'))[0]?.two)).toBe(2)
              } finally {
                await second.release()
              }
              // The connection opened with the old token is still usable (RDS checks tokens only at login).
              expect(Number((await first.query('select 3 as three'))[0]?.three)).toBe(3)
              const after = emu.stats()
              expect(after.rejected.ExpiredToken - before.rejected.ExpiredToken).toBe(1)
              expect(after.accepted - before.accepted).toBe(1)
              expect(pool.tokenStats().signed).toBe(2)
            } finally {
              await first.release()
            }
          })
        },
      )
    })

    describe(`${name}: retry`, () => {
      caseTest('transient-rejections', 'K rejections (K < attempts) end in success', async () => {
        const { emu } = c()
        const rejections = RETRY.maxAttempts - 1
        await withPool(2, async (pool) => {
          const before = emu.stats()
          emu.faults.rejectNext(rejections)
          expect(Number((await pool.query('select 1 as one'))[0]?.one)).toBe(1)
          const after = emu.stats()
          expect(after.rejected.InvalidToken - before.rejected.InvalidToken).toBe(rejections)
          expect(after.accepted - before.accepted).toBe(1)
          // Every rejection invalidates the cached token, so each attempt signs anew.
          expect(pool.tokenStats().signed).toBe(rejections + 1)
        })
      })

      caseTest(
        'permanent-rejection',
        'permanent rejection → RDS_IAM_AUTH_FAILED with a hint, no token leaked',
        async () => {
          const { emu, key } = c()
          await withPool(2, async (pool) => {
            const before = emu.stats()
            emu.faults.rejectNext(1_000)
            const error = await pool.query('select 1').then(
              () => undefined,
              (err: unknown) => err,
            )
            expect(error).toBeInstanceOf(RdsIamError)
            const typed = error as RdsIamError
            expect(typed.code).toBe('RDS_IAM_AUTH_FAILED')
            // DSQL has no rds_iam grant: its hint names the IAM action and the AWS IAM GRANT mapping.
            expect(typed.hint).toMatch(dsql ? /dsql:DbConnect.*AWS IAM GRANT/ : /rds_iam|rds-db:connect/)
            expect(typed.cause).toBeDefined()
            expect(totalRejected(emu.stats()) - totalRejected(before)).toBe(RETRY.maxAttempts)
            expectNoSecret(
              `${typed.message}\n${typed.hint}\n${inspect(typed, { depth: 8 })}`,
              key.secretAccessKey,
            )
            expectNoSecret(inspect(pool.inspectTarget(), { depth: 6 }), key.secretAccessKey)
          })
        },
      )

      caseTest('policy-denied', 'a user the IAM policy does not allow → RDS_IAM_AUTH_FAILED', async () => {
        const { emu } = c()
        const before = emu.stats()
        await withPool(
          1,
          async (pool) => {
            const error = await pool.query('select 1').then(
              () => undefined,
              (err: unknown) => err,
            )
            expect(error).toBeInstanceOf(RdsIamError)
            expect((error as RdsIamError).code).toBe('RDS_IAM_AUTH_FAILED')
            const after = emu.stats()
            expect(after.rejected.NotAuthorized - before.rejected.NotAuthorized).toBe(RETRY.maxAttempts)
            expect(after.accepted - before.accepted).toBe(0)
          },
          { user: DENIED_USER },
        )
      })
    })

    describe(`${name}: load and failover`, () => {
      caseTest('cold-storm', 'a cold pool storm signs once and fails nothing', async () => {
        const { emu } = c()
        const size = 20
        const before = emu.stats()
        await withPool(size, async (pool) => {
          const held = await Promise.all(Array.from({ length: size }, () => pool.acquire()))
          try {
            const results = await Promise.all(held.map((conn, i) => conn.query(`select ${i} as i`)))
            expect(results.map((rows) => Number(rows[0]?.i))).toEqual(
              Array.from({ length: size }, (_, i) => i),
            )
            const stats = pool.tokenStats()
            expect(stats.signed).toBe(1)
            expect(stats.failures).toBe(0)
            expect(emu.stats().accepted - before.accepted).toBe(size)
          } finally {
            for (const conn of held) await conn.release()
          }
        })
      })

      caseTest('failover-recovery', 'recovers after the emulator drops every connection', async () => {
        const { emu } = c()
        await withPool(3, async (pool) => {
          const held = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()])
          for (const conn of held) await conn.query('select 1')
          for (const conn of held) await conn.release()
          const before = emu.stats()
          emu.faults.dropConnections()
          // Idle connections may still be in the pool until the driver sees their socket close;
          // a query that lands on one fails like in a real failover. The pool must heal itself.
          let recovered = false
          for (let i = 0; i < 20 && !recovered; i++) {
            recovered = await pool.query('select 1 as one').then(
              (rows) => Number(rows[0]?.one) === 1,
              () => false,
            )
            if (!recovered) await sleep(50)
          }
          expect(recovered).toBe(true)
          for (let i = 0; i < 5; i++) expect(Number((await pool.query('select 1 as one'))[0]?.one)).toBe(1)
          expect(emu.stats().accepted - before.accepted).toBeGreaterThanOrEqual(1)
        })
      })

      caseTest(
        'aged-pool-reconnect',
        'a long-lived pool reconnects after its tokens aged and every connection dropped; no error reaches the app',
        async () => {
          const { emu } = c()
          await withPool(4, async (pool) => {
            // The pool's first connections log in with the first token, then sit idle in the pool.
            const warm = await Promise.all(Array.from({ length: 4 }, () => pool.acquire()))
            for (const conn of warm) await conn.query('select 1')
            for (const conn of warm) await conn.release()
            const signedBefore = pool.tokenStats().signed
            const before = emu.stats()
            // Fifteen minutes later, in effect: the cached token is past its age and a failover
            // closes every connection, so the same pool has to log in again.
            emu.faults.maxTokenAge(EXPIRY_CAP_SECONDS)
            await sleep(PAST_CAP_MS)
            emu.faults.dropConnections()
            await waitUntil(() => emu.stats().open === 0)
            // The server side is closed; give the driver a moment to see its sockets end, as an
            // app that was idle would (no error may reach it after that).
            await sleep(DRIVER_NOTICE_MS)
            const outcomes = await Promise.allSettled(
              Array.from({ length: 12 }, (_, i) => pool.query(`select ${i} as i`)),
            )
            const failures = outcomes.filter((o) => o.status === 'rejected')
            expect(failures.map((f) => String((f as PromiseRejectedResult).reason))).toEqual([])
            expect(outcomes.map((o) => Number((o as PromiseFulfilledResult<Row[]>).value[0]?.i))).toEqual(
              Array.from({ length: 12 }, (_, i) => i),
            )
            const after = emu.stats()
            expect(after.accepted - before.accepted).toBeGreaterThanOrEqual(1)
            // The pool presented its aged token, was refused, and recovered with a new one.
            expect(after.rejected.ExpiredToken - before.rejected.ExpiredToken).toBeGreaterThanOrEqual(1)
            expect(pool.tokenStats().signed).toBeGreaterThan(signedBefore)
          })
        },
      )
    })

    describe(`${name}: durability`, () => {
      caseTest('writes-across-expiry', '1,000 writes across forced expiries: none lost', async () => {
        const { emu, raw } = c()
        await withTable(async (table) => {
          await withPool(4, async (pool) => {
            const before = emu.stats()
            emu.faults.maxTokenAge(EXPIRY_CAP_SECONDS)
            const rounds = 4
            const perRound = 250
            let next = 0
            for (let round = 0; round < rounds; round++) {
              if (round > 0) await sleep(PAST_CAP_MS) // every cached token is now past the cap
              // Half through pool queries (new connections after the previous round closed them all)…
              for (let chunk = 0; chunk < perRound / 2; chunk += 25) {
                await Promise.all(
                  Array.from({ length: 25 }, () => pool.query(`insert into ${table} (v) values (${next++})`)),
                )
              }
              // …half through held connections, which are then closed so the next round must log in again.
              const held = await Promise.all(Array.from({ length: 4 }, () => pool.acquire()))
              for (let i = 0; i < perRound / 2; i++) {
                await held[i % held.length]!.query(`insert into ${table} (v) values (${next++})`)
              }
              for (const conn of held) await conn.release(true)
            }
            expect(next).toBe(rounds * perRound)
            expect(await raw.count(table)).toBe(rounds * perRound)
            expect(await raw.scalar(`select count(distinct v) from ${table}`)).toBe(rounds * perRound)
            const after = emu.stats()
            expect(after.rejected.ExpiredToken - before.rejected.ExpiredToken).toBeGreaterThanOrEqual(
              rounds - 1,
            )
            expect(pool.tokenStats().signed).toBeGreaterThanOrEqual(rounds)
          })
        })
      })
    })
  })
}

/** Polls `condition` (a state change the test waits for, never a timing assertion); fails after `limitMs`. */
async function waitUntil(condition: () => boolean, limitMs = 5000): Promise<void> {
  const started = Date.now()
  while (!condition()) {
    if (Date.now() - started > limitMs) throw new Error(`condition not reached within ${limitMs} ms`)
    await sleep(20)
  }
}

function totalRejected(stats: { rejected: Record<string, number> }): number {
  return Object.values(stats.rejected).reduce((a, b) => a + b, 0)
}

function expectNoSecret(text: string, secret: string): void {
  for (const marker of TOKEN_MARKERS) expect(text).not.toContain(marker)
  expect(text).not.toContain(secret)
}
