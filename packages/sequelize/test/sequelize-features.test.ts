import { randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { type ConnectionSettings, selectedEngines, TEST_URLS } from '@rds-iam/testkit'
import type { Sequelize as SequelizeInstance } from 'sequelize'
import { DataTypes, Transaction } from 'sequelize'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { addIamHooks, getTokenProvider, withIam } from '../src/index.js'
import { type HarnessDialect, optionsFor, SEQUELIZE_VERSIONS } from './sequelize-harness.js'

// ORM features through IAM connections, per dialect and Sequelize version, against the emulator in
// front of the local PostgreSQL / MariaDB. The conformance suite covers token and retry behaviour.

const RETRY = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 50 }
const DIALECTS: { dialect: HarnessDialect; engine: 'postgres' | 'mysql' }[] = [
  { dialect: 'postgres', engine: 'postgres' },
  { dialect: 'mysql', engine: 'mysql' },
]
const selected = new Set(selectedEngines(['postgres', 'mysql']))

function newKey() {
  return {
    accessKeyId: `AKIASEQ${randomBytes(6).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
  }
}

async function emulatorFor(engine: 'postgres' | 'mysql', key = newKey()): Promise<Emulator> {
  return startEmulator({ engine, upstream: TEST_URLS[engine], credentials: [key] })
}

function settingsFor(emu: Emulator, engine: 'postgres' | 'mysql'): ConnectionSettings {
  return {
    host: emu.host,
    port: emu.port,
    user: `seq_${randomBytes(4).toString('hex')}`,
    database: new URL(TEST_URLS[engine]).pathname.slice(1) || 'test',
    ssl: { ca: emu.ca },
    iam: { region: emu.region, credentials: emu.credentials[0]!, retry: RETRY },
  }
}

for (const { dialect, engine } of DIALECTS.filter((d) => selected.has(d.engine))) {
  for (const [version, Sequelize] of Object.entries(SEQUELIZE_VERSIONS)) {
    describe(`sequelize ${version}, ${dialect} dialect: ORM features through IAM connections`, () => {
      let emu: Emulator
      beforeAll(async () => {
        emu = await emulatorFor(engine)
      })
      afterAll(() => emu?.stop())

      test('sync(), model CRUD, a managed transaction and close() without a hang', async () => {
        const before = emu.stats()
        const sequelize = new Sequelize(withIam(optionsFor(settingsFor(emu, engine), dialect, 3)))
        const table = `seq_items_${randomBytes(4).toString('hex')}`
        const Item = sequelize.define(
          'Item',
          { name: { type: DataTypes.STRING, allowNull: false }, qty: DataTypes.INTEGER },
          { tableName: table },
        )
        try {
          await sequelize.sync()
          const a = await Item.create({ name: 'apple', qty: 1 })
          await Item.bulkCreate([
            { name: 'pear', qty: 2 },
            { name: 'plum', qty: 3 },
          ])
          await Item.update({ qty: 10 }, { where: { name: 'apple' } })
          await Item.destroy({ where: { name: 'plum' } })
          expect((await Item.findByPk(a.get('id') as number))?.get('qty')).toBe(10)

          // A managed transaction commits on success and rolls back on a throw.
          await sequelize.transaction(async (t) => {
            await Item.create({ name: 'kiwi', qty: 4 }, { transaction: t })
          })
          const failed = await sequelize
            .transaction({ isolationLevel: Transaction.ISOLATION_LEVELS.READ_COMMITTED }, async (t) => {
              await Item.create({ name: 'lost', qty: 5 }, { transaction: t })
              throw new Error('roll back')
            })
            .then(
              () => undefined,
              (err: Error) => err,
            )
          expect(failed?.message).toBe('roll back')

          const names = (await Item.findAll({ order: [['name', 'ASC']] })).map((r) => r.get('name'))
          expect(names).toEqual(['apple', 'kiwi', 'pear'])
          expect(await Item.count()).toBe(3)
          // Every login went through the emulator with a verified token; one signing served them all.
          expect(emu.stats().accepted - before.accepted).toBeGreaterThanOrEqual(2)
          expect(totalRejected(emu.stats()) - totalRejected(before)).toBe(0)
          expect(getTokenProvider(sequelize)?.stats().signed).toBe(1)
          expect(inspect(sequelize, { depth: 8 })).not.toContain('X-Amz-Signature')
          await Item.drop()
        } finally {
          await sequelize.close()
        }
        // close() ended every connection (the emulator sees none open) and later use is refused.
        await expect.poll(() => emu.stats().open).toBe(0)
        await expect(sequelize.query('select 1')).rejects.toThrow(/closed/)
      })

      test('the version probe (no databaseVersion) is signed too, by the same provider', async () => {
        const before = emu.stats()
        const sequelize = new Sequelize(
          withIam({ ...optionsFor(settingsFor(emu, engine), dialect, 2), databaseVersion: 0 } as never),
        )
        try {
          await sequelize.authenticate()
          expect(
            (sequelize as unknown as { options: { databaseVersion: unknown } }).options.databaseVersion,
          ).not.toBe(0)
          // One login for the probe, one for the pooled connection.
          expect(emu.stats().accepted - before.accepted).toBe(2)
          expect(getTokenProvider(sequelize)?.stats().signed).toBe(1)
        } finally {
          await sequelize.close()
        }
      })

      test('pool.max connections opening at once on one shared config: one signing, no rejection', async () => {
        const before = emu.stats()
        const max = 8
        const sequelize = new Sequelize(withIam(optionsFor(settingsFor(emu, engine), dialect, max)))
        try {
          const sleep = dialect === 'postgres' ? 'select pg_sleep(0.2) as s' : 'select sleep(0.2) as s'
          await Promise.all(
            Array.from({ length: max }, () => sequelize.query(sleep, { type: 'SELECT' as never })),
          )
          // pool.max pooled logins plus the version probe's.
          expect(emu.stats().accepted - before.accepted).toBe(max + 1)
          expect(totalRejected(emu.stats()) - totalRejected(before)).toBe(0)
          expect(getTokenProvider(sequelize)?.stats().signed).toBe(1)
        } finally {
          await sequelize.close()
        }
      })

      test('addIamHooks on an instance built from a URL elsewhere', async () => {
        const s = settingsFor(emu, engine)
        const sequelize = new (Sequelize as unknown as new (url: string, o: object) => SequelizeInstance)(
          `${dialect}://${s.user}@${s.host}:${s.port}/${s.database}`,
          {
            dialectOptions: { ssl: s.ssl },
            logging: false,
          } as never,
        ) as SequelizeInstance
        addIamHooks(sequelize, s.iam)
        try {
          const [rows] = await sequelize.query('select 1 as one', { type: 'SELECT' as never, raw: true })
          expect(Number((rows as unknown as { one: unknown }).one)).toBe(1)
          expect(getTokenProvider(sequelize)?.stats().signed).toBe(1)
        } finally {
          await sequelize.close()
        }
      })

      test('the four-argument form new Sequelize(database, username, null, options) takes addIamHooks', async () => {
        // withIam cannot see the user of this form (it is outside the options), so the README and
        // withIam's missing-username hint send this form to addIamHooks.
        const s = settingsFor(emu, engine)
        type FourArguments = new (db: string, user: string, pass: null, o: object) => SequelizeInstance
        const sequelize = new (Sequelize as unknown as FourArguments)(s.database, s.user, null, {
          dialect,
          host: s.host,
          port: s.port,
          dialectOptions: { ssl: s.ssl },
          logging: false,
        })
        addIamHooks(sequelize, s.iam)
        try {
          await sequelize.authenticate()
          expect(getTokenProvider(sequelize)?.target?.username).toBe(s.user)
          expect(getTokenProvider(sequelize)?.stats().signed).toBe(1)
        } finally {
          await sequelize.close()
        }
      })

      test('withIam(url, options) reads the URL the way Sequelize does', async () => {
        const s = settingsFor(emu, engine)
        const sequelize = new Sequelize(
          withIam(`${dialect}://${s.user}@${s.host}:${s.port}/${s.database}`, {
            dialectOptions: { ssl: s.ssl },
            logging: false,
            iam: s.iam,
          }),
        )
        try {
          await sequelize.authenticate()
          expect(getTokenProvider(sequelize, { host: s.host, port: s.port })?.stats().signed).toBe(1)
        } finally {
          await sequelize.close()
        }
      })
    })
  }
}

for (const { dialect, engine } of DIALECTS.filter((d) => selected.has(d.engine))) {
  describe(`sequelize latest, ${dialect} dialect: replication (a reader and a writer emulator)`, () => {
    const key = newKey()
    let writer: Emulator
    let reader: Emulator
    beforeAll(async () => {
      writer = await emulatorFor(engine, key)
      reader = await emulatorFor(engine, key)
    })
    afterAll(async () => {
      await writer?.stop()
      await reader?.stop()
    })

    test('each replica gets a token signed for its own host and port, also under concurrency', async () => {
      // One trust store for both (as the RDS bundle holds every region's CA): each emulator has its own CA.
      const s = { ...settingsFor(writer, engine), ssl: { ca: [writer.ca, reader.ca] } as never }
      const base = optionsFor(s, dialect, 4)
      const sequelize = new SEQUELIZE_VERSIONS.latest(
        withIam({
          ...base,
          host: undefined,
          port: undefined,
          replication: {
            write: { host: writer.host, port: writer.port },
            read: [{ host: reader.host, port: reader.port }],
          },
          iam: { ...s.iam, credentials: key },
        }),
      )
      const table = `seq_repl_${randomBytes(4).toString('hex')}`
      const Row = sequelize.define('Row', { v: DataTypes.INTEGER }, { tableName: table })
      const w0 = writer.stats()
      const r0 = reader.stats()
      try {
        await Row.sync()
        await Promise.all(Array.from({ length: 8 }, (_, i) => Row.create({ v: i })))
        // Reads go to the reader (both emulators front the same database, so it sees the writes).
        const counts = await Promise.all(Array.from({ length: 8 }, () => Row.count()))
        expect(counts).toEqual(Array.from({ length: 8 }, () => 8))
        const w1 = writer.stats()
        const r1 = reader.stats()
        // A token signed for the writer would be InvalidToken at the reader (wrong host:port).
        expect(totalRejected(w1) - totalRejected(w0)).toBe(0)
        expect(totalRejected(r1) - totalRejected(r0)).toBe(0)
        expect(w1.accepted - w0.accepted).toBeGreaterThanOrEqual(1)
        expect(r1.accepted - r0.accepted).toBeGreaterThanOrEqual(1)
        const writerProvider = getTokenProvider(sequelize, { host: writer.host, port: writer.port })
        const readerProvider = getTokenProvider(sequelize, { host: reader.host, port: reader.port })
        expect(writerProvider).toBeDefined()
        expect(readerProvider).toBeDefined()
        expect(writerProvider).not.toBe(readerProvider)
        expect(writerProvider?.target?.port).toBe(writer.port)
        expect(readerProvider?.target?.port).toBe(reader.port)
        expect(readerProvider?.stats().signed).toBe(1)
        await Row.drop()
      } finally {
        await sequelize.close()
      }
    })
  })
}

function totalRejected(stats: { rejected: Record<string, number> }): number {
  return Object.values(stats.rejected).reduce((a, b) => a + b, 0)
}
