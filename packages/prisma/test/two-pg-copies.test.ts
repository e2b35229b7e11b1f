import { createRequire } from 'node:module'
import { startEmulator } from '@rds-iam/emulator'
import { createPoolClass } from '@rds-iam/pg'
import { expect, test } from 'vitest'
import { PrismaPgIam } from '../src/index.js'
import { loadPrismaClient } from './prisma-fixtures.js'

// Two different pg versions are installed here: the one @prisma/adapter-pg depends on and
// pg 8.11.0 (the `pg-8-11` alias). PrismaPg recognises a pool only by `instanceof` ITS pg's Pool;
// a pool of the other copy is taken for a config and the first query crashes the process.
const require = createRequire(import.meta.url)
const adapterPg = createRequire(require.resolve('@prisma/adapter-pg'))('pg') as typeof import('pg')
const otherPg = require('pg-8-11') as typeof import('pg')
const versionOf = (pkg: string, from: string) =>
  (createRequire(from)(`${pkg}/package.json`) as { version: string }).version

test('the two pg copies are different versions and different classes (the trap is real here)', () => {
  const adapterVersion = versionOf('pg', require.resolve('@prisma/adapter-pg'))
  const otherVersion = versionOf('pg-8-11', import.meta.url)
  expect(otherVersion).toBe('8.11.0')
  expect(adapterVersion).not.toBe(otherVersion)
  expect(otherPg.Pool).not.toBe(adapterPg.Pool)
  const OtherIamPool = createPoolClass(otherPg)
  const foreign = new OtherIamPool({ host: 'db.abc.us-east-1.rds.amazonaws.com', user: 'app', iam: true })
  expect(foreign instanceof adapterPg.Pool).toBe(false)
  void foreign.end()
})

test("PrismaPgIam builds its pool on @prisma/adapter-pg's own pg, and Prisma queries through it", async () => {
  const emu = await startEmulator({ engine: 'postgres' })
  const adapter = new PrismaPgIam({
    host: emu.host,
    port: emu.port,
    user: 'two_copies',
    database: 'postgres',
    ssl: { ca: emu.ca },
    iam: { region: emu.region, credentials: emu.credentials[0]! },
  })
  const PrismaClient = loadPrismaClient('pg')
  const prisma = new PrismaClient({ adapter })
  try {
    expect(adapter.pool instanceof adapterPg.Pool).toBe(true)
    expect(adapter.pool instanceof otherPg.Pool).toBe(false)
    const rows = await prisma.$queryRawUnsafe<{ one: number }[]>('select 1 as one')
    expect(Number(rows[0]?.one)).toBe(1)
    expect(emu.stats().accepted).toBe(1)
  } finally {
    await prisma.$disconnect()
    await emu.stop()
  }
})
