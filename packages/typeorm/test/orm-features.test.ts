import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { type Engine, selectedEngines, TEST_URLS } from '@rds-iam/testkit'
import type { DataSource, DataSourceOptions, MigrationInterface, QueryRunner } from 'typeorm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { getTokenProvider, withIam } from '../src/index.js'
import { loadTypeorm, TYPEORM_ALIASES } from './typeorm-versions.js'

interface Note {
  id: number
  body: string
}

// Each TypeORM copy × engine runs the features users build on (migrations, repositories,
// transactions, QueryRunner, destroy) through IAM logins, against the emulator in front of the
// real database. `typeorm` (the lowest 0.3) runs with no injection at all, as an app would: the
// adapter finds TypeORM, its version and its pg / mysql2 by itself.
for (const engine of selectedEngines(['postgres', 'pglite', 'mysql'])) {
  describe(`${engine}: ORM features through IAM`, () => {
    // One emulator per engine, shared by the TypeORM copies (each test has its own user and tables).
    let emu: Emulator
    beforeAll(async () => {
      emu = await startEmulator({
        engine: engine === 'mysql' ? 'mysql' : 'postgres',
        upstream: engine === 'pglite' ? undefined : TEST_URLS[engine],
      })
    })
    afterAll(() => emu?.stop())

    for (const alias of TYPEORM_ALIASES) {
      const typeorm = loadTypeorm(alias)
      describe(`typeorm@${typeorm.version} on ${engine}`, () => {
        const optionsFor = (suffix: string, more: Record<string, unknown> = {}): DataSourceOptions => {
          const user = `rds_iam_app_orm_${suffix}`
          const common = {
            host: emu.host,
            port: emu.port,
            username: user,
            database: databaseOf(engine),
            ssl: { ca: emu.ca },
            iam: { region: emu.region, credentials: emu.credentials[0]! },
          }
          const injected = alias === 'typeorm'
          const options =
            engine === 'mysql'
              ? withIam(
                  { type: 'mysql', ...common, ...(injected ? {} : { driver: typeorm.mysql2 }), ...more },
                  injected ? {} : { typeormVersion: typeorm.version },
                )
              : withIam({ type: 'postgres', ...common, ...(injected ? {} : { driver: typeorm.pg }), ...more })
          return options as unknown as DataSourceOptions
        }

        test('migrationsRun, repository CRUD, transactions and a QueryRunner; destroy() does not hang', async () => {
          const suffix = randomBytes(4).toString('hex')
          const table = `rds_iam_typeorm_note_${suffix}`
          const migrationsTableName = `rds_iam_typeorm_migrations_${suffix}`
          const NoteSchema = new typeorm.EntitySchema<Note>({
            name: `Note_${suffix}`,
            tableName: table,
            columns: {
              id: { type: Number, primary: true, generated: true },
              body: { type: String, length: 200 },
            },
          })
          const id = engine === 'mysql' ? 'id int auto_increment primary key' : 'id serial primary key'
          class CreateNotes1700000000000 implements MigrationInterface {
            name = 'CreateNotes1700000000000'
            async up(runner: QueryRunner): Promise<void> {
              await runner.query(`create table ${table} (${id}, body varchar(200) not null)`)
            }
            async down(runner: QueryRunner): Promise<void> {
              await runner.query(`drop table ${table}`)
            }
          }
          const before = emu.stats()
          const dataSource: DataSource = new typeorm.DataSource(
            optionsFor(suffix, {
              entities: [NoteSchema],
              migrations: [CreateNotes1700000000000],
              migrationsRun: true,
              migrationsTableName,
              poolSize: 3,
            }),
          )
          let destroyed = false
          try {
            await dataSource.initialize()
            // migrationsRun: the migration ran during initialize() and was recorded.
            const ran = (await dataSource.query(`select name from ${migrationsTableName}`)) as {
              name: string
            }[]
            expect(ran.map((r) => r.name)).toEqual(['CreateNotes1700000000000'])

            // Repository CRUD round trip.
            const notes = dataSource.getRepository<Note>(NoteSchema)
            const saved = await notes.save({ body: 'first' })
            expect(saved.id).toBeGreaterThan(0)
            expect((await notes.findOneBy({ id: saved.id }))?.body).toBe('first')
            await notes.update({ id: saved.id }, { body: 'edited' })
            expect((await notes.findOneByOrFail({ id: saved.id })).body).toBe('edited')
            await notes.delete({ id: saved.id })
            expect(await notes.count()).toBe(0)

            // dataSource.transaction: committed as a unit, or not at all.
            await dataSource.transaction(async (manager) => {
              await manager.save(NoteSchema, { body: 'in-tx-1' })
              await manager.save(NoteSchema, { body: 'in-tx-2' })
            })
            const failed = await dataSource
              .transaction(async (manager) => {
                await manager.save(NoteSchema, { body: 'rolled-back' })
                throw new Error('abort the transaction')
              })
              .then(
                () => undefined,
                (err: Error) => err,
              )
            expect(failed?.message).toBe('abort the transaction')
            expect((await notes.find({ order: { id: 'ASC' } })).map((n) => n.body)).toEqual([
              'in-tx-1',
              'in-tx-2',
            ])

            // A QueryRunner holds one connection: a manual transaction and schema introspection on it.
            const runner = dataSource.createQueryRunner()
            await runner.connect()
            try {
              expect(await runner.hasTable(table)).toBe(true)
              await runner.startTransaction()
              await runner.query(`insert into ${table} (body) values ('via-runner')`)
              await runner.commitTransaction()
            } finally {
              await runner.release()
            }
            expect(await notes.countBy({ body: 'via-runner' })).toBe(1)

            // Every login of this DataSource was an IAM login, signed once (the token is cached).
            const stats = getTokenProvider(dataSource)!.stats()
            expect(stats.signed).toBe(1)
            expect(stats.failures).toBe(0)
            const after = emu.stats()
            expect(after.accepted - before.accepted).toBeGreaterThanOrEqual(1)
            expect(totalRejected(after) - totalRejected(before)).toBe(0)

            // destroy() with a QueryRunner still holding a connection: it must end, not wait forever.
            const forgotten = dataSource.createQueryRunner()
            await forgotten.connect()
            await forgotten.query('select 1')
            await dataSource.query(`drop table ${table}`)
            await dataSource.query(`drop table ${migrationsTableName}`)
            await dataSource.destroy()
            destroyed = true
            expect(dataSource.isInitialized).toBe(false)
            await waitUntil(() => emu.stats().open === 0)
          } finally {
            if (!destroyed && dataSource.isInitialized) await dataSource.destroy()
          }
        })

        if (engine === 'mysql') {
          test("type 'mariadb' runs on mysql2 with IAM", async () => {
            const suffix = randomBytes(4).toString('hex')
            const dataSource: DataSource = new typeorm.DataSource(optionsFor(suffix, { type: 'mariadb' }))
            await dataSource.initialize()
            try {
              expect(String((await dataSource.query('select version() as v'))[0].v)).toMatch(/MariaDB/i)
              expect(getTokenProvider(dataSource)!.stats().signed).toBe(1)
            } finally {
              await dataSource.destroy()
            }
          })
        }

        test('the `url` form logs in with IAM (a URL does not override the token)', async () => {
          const suffix = randomBytes(4).toString('hex')
          const scheme = engine === 'mysql' ? 'mysql' : 'postgres'
          const url = `${scheme}://rds_iam_app_url_${suffix}@${emu.host}:${emu.port}/${databaseOf(engine)}`
          const dataSource: DataSource = new typeorm.DataSource(
            optionsFor(suffix, {
              url,
              host: undefined,
              port: undefined,
              username: undefined,
              database: undefined,
            }),
          )
          const before = emu.stats()
          await dataSource.initialize()
          try {
            expect(Number((await dataSource.query('select 1 as one'))[0].one)).toBe(1)
            expect(getTokenProvider(dataSource)!.stats().signed).toBe(1)
            expect(emu.stats().accepted - before.accepted).toBeGreaterThanOrEqual(1)
            expect(totalRejected(emu.stats()) - totalRejected(before)).toBe(0)
          } finally {
            await dataSource.destroy()
          }
        })
      })
    }
  })
}

function databaseOf(engine: Engine): string {
  if (engine === 'pglite') return 'postgres'
  return new URL(TEST_URLS[engine]).pathname.slice(1) || 'test'
}

function totalRejected(stats: { rejected: Record<string, number> }): number {
  return Object.values(stats.rejected).reduce((a, b) => a + b, 0)
}

/** Polls a state change (never a timing assertion); fails after `limitMs`. */
async function waitUntil(condition: () => boolean, limitMs = 5000): Promise<void> {
  const started = Date.now()
  while (!condition()) {
    if (Date.now() - started > limitMs) throw new Error(`condition not reached within ${limitMs} ms`)
    await sleep(20)
  }
}
