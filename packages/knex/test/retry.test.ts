import { type ConnectionSettings, runRetryCases, selectedEngines, startHangupServer } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { RdsIamError, withIam } from '../src/index.js'
import { clientFor, type EngineFixture, startEngine } from './engine-fixture.js'
import { loadKnexVersion, rowsOf } from './knex-harness.js'

const knex = loadKnexVersion('knex')
const KnexTimeoutError = (knex as unknown as { KnexTimeoutError: new () => Error }).KnexTimeoutError

const open = (engine: 'postgres' | 'mysql', s: ConnectionSettings) =>
  knex(
    withIam({
      client: engine === 'mysql' ? 'mysql2' : 'pg',
      connection: { host: s.host, port: s.port, user: s.user, database: s.database, ssl: s.ssl, iam: s.iam },
      pool: { min: 0, max: 2 },
    }),
  )

// Every way knex takes a connection retries the same way: the shared table of retry cases.
for (const engine of ['postgres', 'mysql'] as const) {
  if (!selectedEngines([engine]).length) continue
  runRetryCases({
    adapter: `knex (${clientFor(engine)})`,
    engine,
    entryPoints: [
      {
        name: 'knex.raw',
        async run(s) {
          const db = open(engine, s)
          try {
            return rowsOf(await db.raw('select 1 as one'))
          } finally {
            await db.destroy()
          }
        },
      },
      {
        name: 'knex.transaction',
        async run(s) {
          const db = open(engine, s)
          try {
            return await db.transaction(async (trx) => rowsOf(await trx.raw('select 1 as one')))
          } finally {
            await db.destroy()
          }
        },
      },
      {
        name: 'query builder select',
        async run(s) {
          const db = open(engine, s)
          try {
            return await db.select(db.raw('1 as one'))
          } finally {
            await db.destroy()
          }
        },
      },
    ],
    expectAuthCause(cause) {
      if (engine === 'mysql') expect((cause as { errno?: number }).errno).toBe(1045)
      else expect((cause as { code?: string }).code).toBe('28000')
    },
    async connectToHangup(endpoint) {
      const db = knex(
        withIam({
          client: clientFor(engine),
          connection: {
            ...endpoint,
            user: 'app',
            database: 'db',
            ssl: false,
            iam: {
              region: 'us-east-1',
              insecure: true,
              credentials: { accessKeyId: 'AKIAHANGUP', secretAccessKey: 'x' },
            },
          },
          pool: { min: 0, max: 1 },
        }),
      )
      try {
        return await db.raw('select 1').then(
          () => undefined,
          (err: unknown) => err,
        )
      } finally {
        await db.destroy()
      }
    },
  })
}

for (const engine of selectedEngines(['postgres', 'mysql'])) {
  describe(`knex on ${engine}: what a failed login looks like to the app`, () => {
    let fx: EngineFixture
    beforeAll(async () => {
      fx = await startEngine(engine)
    })
    afterAll(() => fx?.close())

    test('a permanent rejection fails the query with RDS_IAM_AUTH_FAILED naming knex, not a KnexTimeoutError', async () => {
      // acquireConnectionTimeout is knex's default (60 s): the typed error must come from the
      // retry policy running out, long before knex would give up on the acquire.
      const db = knex(
        withIam({ client: clientFor(engine), connection: fx.connection(), pool: { min: 0, max: 2 } }),
      )
      const before = fx.emu.stats()
      fx.emu.faults.rejectNext(1_000)
      try {
        const error = await db('information_schema.tables')
          .count('* as n')
          .then(
            () => undefined,
            (err: unknown) => err,
          )
        expect(error).toBeInstanceOf(RdsIamError)
        expect(error).not.toBeInstanceOf(KnexTimeoutError)
        const typed = error as RdsIamError
        expect(typed.code).toBe('RDS_IAM_AUTH_FAILED')
        expect(typed.message).toMatch(
          new RegExp(`knex \\(client '${clientFor(engine)}'\\) could not open a pooled connection`),
        )
        expect(typed.message).toMatch(/failed after 3 attempts/)
        expect(fx.emu.stats().rejected.InvalidToken - before.rejected.InvalidToken).toBe(3)
      } finally {
        fx.emu.faults.reset()
        await db.destroy()
      }
    })

    test("knex's default pool (min 2, max 10): queries work, a refusing server fails typed, nothing unhandled", async () => {
      const db = knex(
        withIam({ client: clientFor(engine), connection: fx.connection(), log: { warn: () => {} } }),
      )
      try {
        expect(rowsOf(await db.raw('select 1 as one')).map((r) => Number(r.one))).toEqual([1])
        // Every connection gone and the next logins refused: the pool's own refills fail quietly
        // inside knex; the app sees typed errors on its queries only.
        fx.emu.faults.rejectNext(1_000)
        fx.emu.faults.dropConnections()
        while (fx.emu.stats().open > 0) await new Promise((r) => setTimeout(r, 10))
        await new Promise((r) => setTimeout(r, 100))
        const error = await db.raw('select 1').then(
          () => undefined,
          (err: unknown) => err,
        )
        expect((error as RdsIamError).code).toBe('RDS_IAM_AUTH_FAILED')
        fx.emu.faults.reset()
        expect(rowsOf(await db.raw('select 2 as two')).map((r) => Number(r.two))).toEqual([2])
      } finally {
        fx.emu.faults.reset()
        await db.destroy()
      }
    })

    test('concurrent queries against a refusing server all fail typed, and the instance recovers', async () => {
      const db = knex(
        withIam({ client: clientFor(engine), connection: fx.connection(), pool: { min: 0, max: 3 } }),
      )
      fx.emu.faults.rejectNext(1_000)
      try {
        const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => db.raw('select 1 as one')))
        for (const o of outcomes) {
          expect(o.status).toBe('rejected')
          expect(((o as PromiseRejectedResult).reason as RdsIamError).code).toBe('RDS_IAM_AUTH_FAILED')
        }
        fx.emu.faults.reset()
        expect(rowsOf(await db.raw('select 1 as one')).map((r) => Number(r.one))).toEqual([1])
      } finally {
        fx.emu.faults.reset()
        await db.destroy()
      }
    })
  })
}

describe('knex: a broken credential source fails before any socket opens', () => {
  test.each(['pg', 'mysql2'] as const)(
    '%s: RDS_IAM_CREDENTIALS reaches the query; the server sees no connection',
    async (client) => {
      const server = await startHangupServer()
      const db = knex(
        withIam({
          client,
          connection: {
            host: '127.0.0.1',
            port: server.port,
            user: 'app',
            database: 'db',
            iam: {
              region: 'us-east-1',
              credentials: async () => {
                throw new Error('no credentials here')
              },
              retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
            },
          },
          pool: { min: 0, max: 1 },
        }),
      )
      try {
        const error = await db.raw('select 1').then(
          () => undefined,
          (err: unknown) => err,
        )
        expect(error).toBeInstanceOf(RdsIamError)
        expect((error as RdsIamError).code).toBe('RDS_IAM_CREDENTIALS')
        expect((error as RdsIamError).message).toMatch(/knex/)
        expect(server.connections()).toBe(0)
      } finally {
        await db.destroy()
        await server.close()
      }
    },
  )
})
