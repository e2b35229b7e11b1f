import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { startEmulator } from '@rds-iam/emulator'
import { selectedEngines, TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { getTokenProvider } from '../src/index.js'
import { loadPrismaClient, type PrismaClientLike, schemaSql } from './prisma-fixtures.js'

type Emulator = Awaited<ReturnType<typeof startEmulator>>

/** How a feature suite reaches its database through the adapter under test. */
export interface FeatureTarget {
  label: string
  engine: 'postgres' | 'pglite' | 'mysql'
  flavour: 'pg' | 'mysql'
  /** Builds the adapter for the emulator; `database` is a fresh database (mysql) or schema (pg). */
  adapter(emu: Emulator, user: string, database: string | undefined): object
  /** Creates and drops the fresh database the suite owns, through the raw server (not the adapter). */
  isolate?: { setup(name: string): Promise<void>; teardown(name: string): Promise<void> }
}

/**
 * Prisma features through an IAM adapter (DESIGN §5 / issue 11): model CRUD over a relation,
 * `$queryRaw`, interactive and batch transactions (commit and rollback), `$disconnect()` that lets
 * the process exit, and the same client querying again after `$disconnect()`.
 */
export function runFeatureCases(t: FeatureTarget): void {
  if (selectedEngines([t.engine]).length === 0) return // narrowed out by RDS_IAM_TEST_ENGINES
  describe(`${t.label} on ${t.engine}: Prisma features through IAM connections`, () => {
    let emu: Emulator
    let prisma: PrismaClientLike
    let adapter: object
    const scope = `rds_iam_prisma_${randomBytes(4).toString('hex')}`
    beforeAll(async () => {
      emu = await startEmulator({
        engine: t.engine === 'mysql' ? 'mysql' : 'postgres',
        upstream: t.engine === 'pglite' ? undefined : TEST_URLS[t.engine],
      })
      await t.isolate?.setup(scope)
      adapter = t.adapter(emu, `app_${randomBytes(3).toString('hex')}`, t.isolate ? scope : undefined)
      const PrismaClient = loadPrismaClient(t.flavour)
      prisma = new PrismaClient({ adapter })
      const sql = schemaSql(
        t.engine === 'mysql' ? 'mysql' : 'postgres',
        t.engine === 'postgres' && t.isolate ? scope : undefined,
      )
      for (const statement of sql.create) await prisma.$executeRawUnsafe(statement)
    })
    afterAll(async () => {
      await prisma?.$disconnect()
      await t.isolate?.teardown(scope)
      await emu?.stop()
    })

    test('model CRUD over a relation (nested create, include, update, delete)', async () => {
      const author = await prisma.author.create({
        data: {
          email: `${scope}@example.com`,
          name: 'Ada',
          posts: { create: [{ title: 'one' }, { title: 'two' }] },
        },
        include: { posts: true },
      })
      expect(author.posts.map((p: { title: string }) => p.title).sort()).toEqual(['one', 'two'])
      const found = await prisma.author.findUnique({ where: { id: author.id }, include: { posts: true } })
      expect(found?.name).toBe('Ada')
      const updated = await prisma.post.updateMany({ where: { authorId: author.id }, data: { done: true } })
      expect(updated.count).toBe(2)
      expect(await prisma.post.count({ where: { authorId: author.id, done: true } })).toBe(2)
      await prisma.post.deleteMany({ where: { authorId: author.id } })
      await prisma.author.delete({ where: { id: author.id } })
      expect(await prisma.author.findUnique({ where: { id: author.id } })).toBeNull()
    })

    test('$queryRaw with parameters', async () => {
      const rows = await prisma.$queryRaw<{ n: number | bigint }[]>`select ${41} + 1 as n`
      expect(Number(rows[0]?.n)).toBe(42)
    })

    test('interactive transaction: commit, and rollback on a thrown error', async () => {
      const email = `${scope}-tx@example.com`
      const id = await prisma.$transaction(async (tx) => {
        const a = await tx.author.create({ data: { email, name: 'Tx' } })
        await tx.post.create({ data: { title: 'in tx', authorId: a.id } })
        return a.id as number
      })
      expect(await prisma.post.count({ where: { authorId: id } })).toBe(1)
      const error = await prisma
        .$transaction(async (tx) => {
          await tx.post.create({ data: { title: 'rolled back', authorId: id } })
          throw new Error('abort on purpose')
        })
        .catch((err: unknown) => err)
      expect((error as Error).message).toBe('abort on purpose')
      expect(await prisma.post.count({ where: { authorId: id } })).toBe(1)
    })

    test('batch transaction: all or nothing', async () => {
      const email = `${scope}-batch@example.com`
      const [author, count] = await prisma.$transaction([
        prisma.author.create({ data: { email, name: 'Batch' } }),
        prisma.author.count({ where: { email } }),
      ])
      expect((author as { email: string }).email).toBe(email)
      expect(count).toBe(1)
      const error = await prisma
        .$transaction([
          prisma.author.create({ data: { email: `${scope}-batch2@example.com`, name: 'B2' } }),
          prisma.author.create({ data: { email, name: 'duplicate' } }),
        ])
        .catch((err: unknown) => err)
      expect((error as { code?: string }).code).toBe('P2002')
      expect(await prisma.author.count({ where: { email: `${scope}-batch2@example.com` } })).toBe(0)
    })

    test('$disconnect() closes every connection; the same client connects again afterwards', async () => {
      expect(Number((await prisma.$queryRawUnsafe<{ one: number }[]>('select 1 as one'))[0]?.one)).toBe(1)
      await prisma.$disconnect()
      // Polls a state change (the server side closed); never a timing assertion.
      for (let i = 0; i < 100 && emu.stats().open > 0; i++) await sleep(20)
      expect(emu.stats().open).toBe(0)
      expect(await prisma.author.count()).toBeGreaterThanOrEqual(0)
      expect(getTokenProvider(adapter)?.stats().signed).toBeGreaterThanOrEqual(1)
    })
  })
}
