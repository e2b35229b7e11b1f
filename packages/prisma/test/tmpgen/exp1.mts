import { createRequire } from 'node:module'
import { PrismaPg } from '@prisma/adapter-pg'
import { startEmulator } from '@rds-iam/emulator'
import { createPoolClass, getTokenProvider } from '@rds-iam/pg'

const require = createRequire(import.meta.url)
const { PrismaClient } = require('./generated/index.js')
const adapterPath = require.resolve('@prisma/adapter-pg')
const pg = createRequire(adapterPath)('pg')
const emu = await startEmulator({ engine: 'postgres' })
const key = emu.credentials[0]
const Pool = createPoolClass(pg)
const pool = new Pool({
  host: emu.host,
  port: emu.port,
  user: 'app',
  database: 'postgres',
  ssl: { ca: emu.ca },
  iam: { region: emu.region, credentials: key, retry: { maxAttempts: 2, baseDelayMs: 5 } },
})
const prisma = new PrismaClient({ adapter: new PrismaPg(pool) })
console.log(await prisma.$queryRaw`select 1 as one`)
await prisma.$executeRawUnsafe(
  'create table if not exists "User" (id serial primary key, email text unique not null)',
)
console.log(await prisma.user.create({ data: { email: 'a@b' + Math.random() } }))
emu.faults.rejectNext(100)
await pool.query('select 1').catch((e) => console.log('pool', e.code))
// drop idle connections
emu.faults.dropConnections()
await new Promise((r) => setTimeout(r, 200))
for (const f of [() => prisma.user.findMany(), () => prisma.$queryRaw`select 2`]) {
  try {
    await f()
  } catch (e: any) {
    console.log(
      'ERR',
      e.constructor.name,
      e.code,
      e.errorCode,
      e.message.slice(0, 300),
      'cause:',
      e.cause?.constructor?.name,
      e.cause?.code,
      JSON.stringify(e.meta),
    )
  }
}
await prisma.$disconnect()
await emu.stop()
