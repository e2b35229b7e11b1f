import { startEmulator } from '@rds-iam/emulator'
import { getTokenProvider, withIam } from '@rds-iam/pg'
import knex from 'knex'
import { afterAll, beforeAll, expect, test } from 'vitest'

// The shape of docs/recipes.md's Strapi recipe on plain knex: the framework keeps `client` as a
// string and passes `connection` through to knex, whose pg client gets @rds-iam/pg's withIam config.
let emu: Awaited<ReturnType<typeof startEmulator>>
beforeAll(async () => {
  emu = await startEmulator({ engine: 'postgres' })
}, 120_000)
afterAll(async () => {
  await emu?.stop()
})

test("knex with client 'postgres' and connection: withIam(…) from @rds-iam/pg logs in over IAM, one token for every connection", async () => {
  const connection = withIam({
    host: 'localhost',
    port: emu.port,
    database: 'postgres',
    user: 'strapi_app',
    ssl: { ca: emu.ca },
    iam: { region: emu.region, credentials: emu.credentials[0] },
  })
  const db = knex({ client: 'postgres', connection, pool: { min: 0, max: 3 } })
  try {
    const before = emu.stats().accepted
    await db.schema.createTable('recipe_strapi_items', (t) => {
      t.increments('id')
      t.string('name').notNullable()
    })
    // Three at once: the pool opens several physical connections, each with an IAM login.
    await Promise.all(['a', 'b', 'c'].map((name) => db('recipe_strapi_items').insert({ name })))
    const rows = await db('recipe_strapi_items').orderBy('name').pluck('name')
    expect(rows).toEqual(['a', 'b', 'c'])
    expect(emu.stats().accepted - before).toBeGreaterThanOrEqual(2)
    expect(getTokenProvider(connection)?.stats().signed).toBe(1)
  } finally {
    await db.destroy()
  }
}, 60_000)
