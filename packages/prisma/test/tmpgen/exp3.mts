import { createRequire } from 'node:module'
import { startEmulator } from '@rds-iam/emulator'
import { PrismaMariaDbIam, getRdsIamError } from '@rds-iam/prisma'
const require = createRequire(import.meta.url)
const { PrismaClient } = require('../fixtures/mysql/generated/index.js')
process.on('uncaughtException', (e) => { console.log('UNCAUGHT', e); process.exit(1) })
const emu = await startEmulator({ engine: 'mysql', upstream: 'mysql://root@127.0.0.1:3306/test' })
const other = await startEmulator({ engine: 'mysql', upstream: 'mysql://root@127.0.0.1:3306/test' })
const prisma = new PrismaClient({ adapter: new PrismaMariaDbIam({ host: emu.host, port: emu.port, user: 'x1', database: 'test', ssl: { ca: other.ca }, iam: { region: emu.region, credentials: emu.credentials[0] } }) })
const e = await prisma.$queryRawUnsafe('select 1').catch((err: unknown) => err)
console.log('got', (e as any)?.code, getRdsIamError(e)?.code, emu.stats())
await prisma.$disconnect()
await emu.stop(); await other.stop()
