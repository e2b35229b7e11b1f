import { EntitySchema, MikroORM } from '@mikro-orm/postgresql'
import { startEmulator } from '@rds-iam/emulator'
import { getTokenProvider, withIam } from '@rds-iam/pg'
import { afterAll, beforeAll, expect, test } from 'vitest'

// docs/recipes.md's MikroORM recipe as written (MikroORM 6.6.16, the last line that runs on
// Node 20): `driverOptions.connection` is @rds-iam/pg's withIam config.
interface Note {
  id: number
  body: string
}
const NoteSchema = new EntitySchema<Note>({
  name: 'Note',
  tableName: 'recipe_mikro_notes',
  properties: { id: { type: 'number', primary: true }, body: { type: 'string' } },
})

let emu: Awaited<ReturnType<typeof startEmulator>>
beforeAll(async () => {
  emu = await startEmulator({ engine: 'postgres' })
}, 120_000)
afterAll(async () => {
  await emu?.stop()
})

test('MikroORM 6 with driverOptions.connection = withIam(…) from @rds-iam/pg logs in over IAM and writes and reads', async () => {
  const connection = withIam({
    host: 'localhost',
    port: emu.port,
    user: 'mikro_app',
    database: 'postgres',
    ssl: { ca: emu.ca },
    iam: { region: emu.region, credentials: emu.credentials[0] },
  })
  const orm = await MikroORM.init({
    entities: [NoteSchema],
    host: 'localhost',
    port: emu.port,
    user: 'mikro_app',
    dbName: 'postgres',
    driverOptions: { connection },
    allowGlobalContext: true,
  })
  try {
    await orm.schema.createSchema()
    const em = orm.em.fork()
    em.create(NoteSchema, { id: 1, body: 'signed, not stored' })
    em.create(NoteSchema, { id: 2, body: 'verified TLS' })
    await em.flush()
    const notes = await orm.em.fork().find(NoteSchema, {}, { orderBy: { id: 'asc' } })
    expect(notes.map((n) => n.body)).toEqual(['signed, not stored', 'verified TLS'])
    // MikroORM.init() connected already: every login of this emulator was an IAM login of this ORM.
    expect(emu.stats().accepted).toBeGreaterThanOrEqual(1)
    expect(getTokenProvider(connection)?.stats().signed).toBe(1)
  } finally {
    await orm.close(true)
  }
}, 60_000)
