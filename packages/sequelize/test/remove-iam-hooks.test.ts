import { randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { selectedEngines, TEST_URLS } from '@rds-iam/testkit'
import type { Sequelize as SequelizeInstance, Transaction } from 'sequelize'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { addIamHooks, getTokenProvider, isRdsIamError, removeIamHooks, withIam } from '../src/index.js'
import { type HarnessDialect, optionsFor, SEQUELIZE_VERSIONS } from './sequelize-harness.js'

// removeIamHooks(sequelize) against the emulator in front of the local PostgreSQL / MariaDB. The
// README used to say `removeHook('beforeConnect', 'rdsIam')` takes IAM off; it did not: the
// connect retry wrapper still signed tokens and the config kept the last one as its password.
// After removeIamHooks a new connection gets no token from anywhere, and IAM can be added again.

const RETRY = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 50 }
const DIALECTS: { dialect: HarnessDialect; engine: 'postgres' | 'mysql' }[] = [
  { dialect: 'postgres', engine: 'postgres' },
  { dialect: 'mysql', engine: 'mysql' },
]
const selected = new Set(selectedEngines(['postgres', 'mysql']))

interface ManagerInternals {
  connect: unknown
  config: { password?: unknown; dialectOptions?: Record<string, unknown> }
}
const managerOf = (s: SequelizeInstance) => s.connectionManager as unknown as ManagerInternals
const beforeConnectHooks = (s: SequelizeInstance): unknown[] =>
  ((s as unknown as { options: { hooks: { beforeConnect?: unknown[] } } }).options.hooks.beforeConnect ??
    []) as unknown[]

for (const { dialect, engine } of DIALECTS.filter((d) => selected.has(d.engine))) {
  describe(`${dialect}: removeIamHooks takes IAM off an instance`, () => {
    let emu: Emulator
    beforeAll(async () => {
      emu = await startEmulator({ engine, upstream: TEST_URLS[engine] })
    })
    afterAll(() => emu?.stop())

    const options = (extra: object = {}) =>
      optionsFor(
        {
          host: emu.host,
          port: emu.port,
          user: `seq_rm_${randomBytes(4).toString('hex')}`,
          database: new URL(TEST_URLS[engine]).pathname.slice(1) || 'test',
          ssl: { ca: emu.ca },
          iam: { region: emu.region, credentials: emu.credentials[0]!, retry: RETRY },
        },
        dialect,
        2,
        { databaseVersion: dialect === 'postgres' ? '15.0.0' : '10.11.0', ...extra } as never,
      )

    /**
     * Holds one pooled connection in a transaction, so the next query needs a new physical
     * connection: the one that shows whether a token is still given.
     */
    async function secondConnection(sequelize: SequelizeInstance): Promise<unknown> {
      const held: Transaction = await sequelize.transaction()
      try {
        return await sequelize.query('select 1 as one', { type: 'SELECT' as never }).then(
          () => undefined,
          (err: unknown) => err,
        )
      } finally {
        await held.commit()
      }
    }

    test('withIam instance: no hook, no retry wrapper, no token left; open connections keep working', async () => {
      const sequelize = new SEQUELIZE_VERSIONS.latest(withIam(options()))
      try {
        await sequelize.authenticate()
        const provider = getTokenProvider(sequelize)!
        expect(provider.stats().signed).toBe(1)
        expect(Object.hasOwn(managerOf(sequelize), 'connect')).toBe(true) // the retry wrapper

        expect(removeIamHooks(sequelize)).toBe(sequelize)
        expect(beforeConnectHooks(sequelize)).toHaveLength(0)
        expect(Object.hasOwn(managerOf(sequelize), 'connect')).toBe(false)
        expect(managerOf(sequelize).config.password ?? null).toBeNull()
        // Hidden properties included: the connection configs keep no token (the open connection's
        // driver still holds the one it logged in with, as any open connection does).
        expect(inspect(managerOf(sequelize).config, { depth: 6, showHidden: true })).not.toContain('X-Amz')
        expect(getTokenProvider(sequelize)).toBeUndefined()

        // The idle pooled connection is still logged in.
        const accepted = emu.stats().accepted
        await sequelize.query('select 1 as one', { type: 'SELECT' as never })
        // A new connection logs in without a token: the database refuses it, once (no retry),
        // with Sequelize's own error, and nothing was signed for it.
        const err = await secondConnection(sequelize)
        expect(err).toBeInstanceOf(Error)
        expect(isRdsIamError(err)).toBe(false)
        expect(String((err as Error).message)).not.toContain('X-Amz')
        expect(provider.stats().signed).toBe(1)
        expect(emu.stats().accepted).toBe(accepted)
      } finally {
        await sequelize.close()
      }
    })

    test('addIamHooks instance: removed, then added again, logs in over IAM again', async () => {
      const { iam, ...plain } = options({ hooks: { beforeConnect: [async () => {}] } })
      const sequelize = new SEQUELIZE_VERSIONS.lowest(plain)
      try {
        addIamHooks(sequelize, iam)
        await sequelize.authenticate()
        const first = getTokenProvider(sequelize)!
        expect(first.stats().signed).toBe(1)

        removeIamHooks(sequelize)
        // The user's own hook stays; only the IAM one goes.
        expect(beforeConnectHooks(sequelize)).toHaveLength(1)
        expect(managerOf(sequelize).config.password ?? null).toBeNull()
        expect(await secondConnection(sequelize)).toBeInstanceOf(Error)
        // Nothing to remove is not an error.
        expect(() => removeIamHooks(sequelize)).not.toThrow()

        addIamHooks(sequelize, iam)
        expect(await secondConnection(sequelize)).toBeUndefined()
        expect(getTokenProvider(sequelize)?.stats().signed).toBeGreaterThanOrEqual(1)
      } finally {
        await sequelize.close()
      }
    })
  })
}

test('removeIamHooks on something that is not a Sequelize instance is RDS_IAM_INVALID_OPTIONS', () => {
  expect(() => removeIamHooks({})).toThrow(expect.objectContaining({ code: 'RDS_IAM_INVALID_OPTIONS' }))
})
