import { setTimeout as sleep } from 'node:timers/promises'
import { startEmulator } from '@rds-iam/emulator'
import { getTokenProvider, Pool } from '@rds-iam/pg'
import { eq, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import { integer, pgTable, serial, text } from 'drizzle-orm/pg-core'
import { afterAll, beforeAll, expect, test } from 'vitest'

// The Drizzle recipe of docs/recipes.md, run as written: Drizzle's node-postgres driver over
// @rds-iam/pg's Pool, against the emulator on PGlite (offline).
const items = pgTable('recipe_drizzle_items', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  qty: integer('qty').notNull(),
})

let emu: Awaited<ReturnType<typeof startEmulator>>
beforeAll(async () => {
  emu = await startEmulator({ engine: 'postgres' })
}, 120_000)
afterAll(async () => {
  await emu?.stop()
})

test('Drizzle over @rds-iam/pg Pool writes and reads over IAM and gets a new token after expiry', async () => {
  const pool = new Pool({
    host: 'localhost',
    port: emu.port,
    user: 'drizzle_app',
    database: 'postgres',
    max: 2,
    idleTimeoutMillis: 200,
    ssl: { ca: emu.ca },
    iam: { region: emu.region, credentials: emu.credentials[0] },
  })
  try {
    const db = drizzle(pool)
    await db.execute(
      sql`create table recipe_drizzle_items (id serial primary key, name text not null, qty integer not null)`,
    )
    await db.insert(items).values([
      { name: 'tea', qty: 3 },
      { name: 'coffee', qty: 1 },
    ])
    await db.transaction(async (tx) => {
      await tx.update(items).set({ qty: 2 }).where(eq(items.name, 'coffee'))
    })
    expect(await db.select({ name: items.name, qty: items.qty }).from(items).orderBy(items.id)).toEqual([
      { name: 'tea', qty: 3 },
      { name: 'coffee', qty: 2 },
    ])
    expect(getTokenProvider(pool)?.stats().signed).toBe(1)

    // The token ages out; the idle connections close; the next query logs in with a new token.
    emu.faults.maxTokenAge(1)
    await sleep(2100)
    while (pool.totalCount > 0) await sleep(20)
    const expiredBefore = emu.stats().rejected.ExpiredToken
    const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(items)
    expect(row?.n).toBe(2)
    expect(emu.stats().rejected.ExpiredToken - expiredBefore).toBe(1)
    expect(getTokenProvider(pool)?.stats().signed).toBe(2)
  } finally {
    emu.faults.reset()
    await pool.end()
  }
}, 60_000)
