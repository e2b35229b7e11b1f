import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { selectedEngines } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { getTokenProvider, withIam } from '../src/index.js'
import { clientFor, type EngineFixture, startEngine } from './engine-fixture.js'
import { type KnexVersion, loadKnexVersion, rowsOf } from './knex-harness.js'

// Migrations, seeds and transactions are the knex features that open their own connections
// (the migrator takes a lock in a transaction); each runs here through IAM logins only.
const VERSIONS: KnexVersion[] = ['knex', 'knex-latest']

/** A real migrations directory and a seeds directory on disk, for one table name. */
async function writeProject(table: string): Promise<{ dir: string; migrations: string; seeds: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'rds-iam-knex-'))
  const migrations = join(dir, 'migrations')
  const seeds = join(dir, 'seeds')
  await mkdir(migrations)
  await mkdir(seeds)
  await writeFile(
    join(migrations, '20260101000000_create_items.cjs'),
    `exports.up = (knex) => knex.schema.createTable('${table}', (t) => { t.increments('id'); t.string('name').notNullable() })
exports.down = (knex) => knex.schema.dropTable('${table}')
`,
  )
  await writeFile(
    join(migrations, '20260102000000_add_price.cjs'),
    `exports.up = (knex) => knex.schema.alterTable('${table}', (t) => { t.integer('price').notNullable().defaultTo(0) })
exports.down = (knex) => knex.schema.alterTable('${table}', (t) => { t.dropColumn('price') })
`,
  )
  await writeFile(
    join(seeds, '01_items.cjs'),
    `exports.seed = async (knex) => {
  await knex('${table}').del()
  await knex('${table}').insert([{ name: 'apple', price: 3 }, { name: 'pear', price: 5 }])
}
`,
  )
  return { dir, migrations, seeds }
}

for (const engine of selectedEngines(['postgres', 'pglite', 'mysql'])) {
  describe(`knex features through IAM on ${engine}`, () => {
    let fx: EngineFixture
    beforeAll(async () => {
      fx = await startEngine(engine)
    })
    afterAll(async () => {
      await fx?.close()
    })

    for (const version of VERSIONS) {
      test(`${version}: migrate.latest, seed.run (after token expiry and a failover), transactions, migrate.rollback`, async () => {
        const knex = loadKnexVersion(version)
        const table = `rds_iam_knex_${Math.random().toString(36).slice(2, 10)}`
        const project = await writeProject(table)
        const columns = async () =>
          (
            await fx.raw.rows(
              `select column_name as c from information_schema.columns where table_name = '${table}' order by column_name`,
            )
          ).map((r) => String(r.c ?? r.C ?? r.COLUMN_NAME))
        const db = knex(
          withIam(
            {
              client: clientFor(engine),
              connection: fx.connection(),
              pool: { min: 0, max: 4 },
              migrations: { directory: project.migrations, tableName: `${table}_migrations` },
              seeds: { directory: project.seeds },
              log: { warn: () => {} },
            },
            { knex },
          ),
        )
        const before = fx.emu.stats()
        try {
          const [batch, applied] = await db.migrate.latest()
          expect(batch).toBe(1)
          expect(applied.map((f: string) => f.replace(/\.cjs$/, ''))).toEqual([
            '20260101000000_create_items',
            '20260102000000_add_price',
          ])
          expect(await columns()).toEqual(['id', 'name', 'price'])

          // Fifteen minutes later, in effect: the token aged out and a failover closed every
          // connection. The seed must log in again with a new token.
          const signedBefore = getTokenProvider(db)!.stats().signed
          fx.emu.faults.maxTokenAge(1)
          await sleep(2100)
          fx.emu.faults.dropConnections()
          const [seeded] = await db.seed.run()
          fx.emu.faults.reset()
          expect(seeded?.map((f: string) => f.split(/[\\/]/).pop())).toEqual(['01_items.cjs'])
          expect(await fx.raw.count(table)).toBe(2)
          expect(getTokenProvider(db)!.stats().signed).toBeGreaterThan(signedBefore)

          // A committed transaction: both statements land together.
          await db.transaction(async (trx) => {
            expect(getTokenProvider(trx)).toBe(getTokenProvider(db))
            await trx(table).insert({ name: 'plum', price: 7 })
            await trx(table).where({ name: 'apple' }).update({ price: 4 })
          })
          expect(await fx.raw.count(table)).toBe(3)
          expect(await fx.raw.scalar(`select price from ${table} where name = 'apple'`)).toBe(4)

          // A failed transaction: nothing lands.
          const failure = await db
            .transaction(async (trx) => {
              await trx(table).insert({ name: 'fig', price: 9 })
              throw new Error('abort on purpose')
            })
            .then(
              () => undefined,
              (err: unknown) => err,
            )
          expect(String(failure)).toMatch(/abort on purpose/)
          expect(await fx.raw.count(table)).toBe(3)
          expect(rowsOf(await db.raw(`select count(*) as n from ${table}`)).map((r) => Number(r.n))).toEqual([
            3,
          ])

          const [rolledBack, reverted] = await db.migrate.rollback(undefined, true)
          expect(rolledBack).toBe(1)
          expect(reverted).toHaveLength(2)
          expect(await columns()).toEqual([])

          const after = fx.emu.stats()
          expect(after.accepted - before.accepted).toBeGreaterThanOrEqual(2)
          expect(after.rejected.ExpiredToken - before.rejected.ExpiredToken).toBeGreaterThanOrEqual(1)
        } finally {
          fx.emu.faults.reset()
          await db.destroy()
          await fx.raw.exec(`drop table if exists ${table}`)
          await fx.raw.exec(`drop table if exists ${table}_migrations`)
          await fx.raw.exec(`drop table if exists ${table}_migrations_lock`)
          await rm(project.dir, { recursive: true, force: true })
        }
      })
    }
  })
}
