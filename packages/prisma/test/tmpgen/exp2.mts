import { createRequire } from 'node:module'
import { startEmulator } from '@rds-iam/emulator'
import { getRdsIamError, getTokenProvider, PrismaPgIam } from '@rds-iam/prisma'

const require = createRequire(import.meta.url)
const { PrismaClient } = require('./generated/index.js')
const emu = await startEmulator({ engine: 'postgres' })
const key = emu.credentials[0]
const adapter = new PrismaPgIam({
  host: emu.host,
  port: emu.port,
  user: 'app',
  database: 'postgres',
  ssl: { ca: emu.ca },
  iam: { region: emu.region, credentials: key, retry: { maxAttempts: 2, baseDelayMs: 5 } },
})
const prisma = new PrismaClient({ adapter })
console.log(await prisma.$queryRaw`select 1 as one`)
await prisma.$executeRawUnsafe(
  'create table if not exists "User" (id serial primary key, email text unique not null)',
)
console.log(await prisma.user.create({ data: { email: 'a@b' + Math.random() } }))
console.log(await prisma.$transaction(async (tx) => tx.user.count()))
console.log(await prisma.$transaction([prisma.user.count(), prisma.$queryRaw`select 2 as two`]))
emu.faults.rejectNext(100)
emu.faults.dropConnections()
await new Promise((r) => setTimeout(r, 200))
for (const f of [
  () => prisma.user.findMany(),
  () => prisma.$queryRaw`select 2`,
  () => prisma.$transaction(async (tx) => tx.user.count()),
  () => prisma.$transaction([prisma.user.count()]),
]) {
  try {
    await f()
  } catch (e: any) {
    console.log(
      'ERR',
      e.constructor.name,
      e.code,
      'meta:',
      e.meta,
      'orig:',
      getRdsIamError(e)?.code,
      getRdsIamError(e)?.cause?.code,
    )
  }
}
console.log(getTokenProvider(adapter)?.stats())
await prisma.$disconnect()
await emu.stop()
console.log('done')
