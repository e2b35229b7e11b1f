// Prisma 7 with IAM authentication through @rds-iam/prisma, against @rds-iam/emulator in front of
// an embedded PostgreSQL (PGlite). Offline, no database server. `npm start` generates the client
// first. Set RDS_IAM_DEMO_PG_URL=postgres://… to put a real PostgreSQL behind the emulator.
import { setTimeout as sleep } from 'node:timers/promises'
import { startEmulator } from '@rds-iam/emulator'
import { getRdsIamError, getTokenProvider, PrismaPgIam } from '@rds-iam/prisma'
import generated from '../generated/index.js'

const { PrismaClient } = generated
const upstream = process.env.RDS_IAM_DEMO_PG_URL
const emu = await startEmulator({ engine: 'postgres', ...(upstream ? { upstream } : {}) })
console.log(`RDS IAM emulator on ${emu.endpoint}, in front of ${upstream ?? 'an embedded PGlite'}`)

// Against real RDS the adapter is `new PrismaPgIam({ host, user, database, iam: true })`: region
// from the hostname, credentials from the AWS default chain, TLS verified with the RDS CA bundle.
// The emulator has its own CA and test key.
const settings = {
  host: 'localhost',
  port: emu.port,
  user: 'demo_app',
  database: 'postgres',
  ssl: { ca: emu.ca },
  iam: { region: emu.region, credentials: emu.credentials[0] },
}
const adapter = new PrismaPgIam(settings)
const prisma = new PrismaClient({ adapter })

try {
  // The schema, as SQL through the same IAM connection (Prisma Migrate needs a URL; see the README).
  await prisma.$executeRawUnsafe(
    'create table if not exists "Author" (id serial primary key, email text not null unique, name text not null)',
  )
  await prisma.$executeRawUnsafe(
    'create table if not exists "Post" (id serial primary key, title text not null, published boolean not null default false, "authorId" integer not null references "Author"(id))',
  )

  // Writes: an author with two posts (a relation, one nested create).
  const ada = await prisma.author.upsert({
    where: { email: 'ada@example.com' },
    update: {},
    create: {
      email: 'ada@example.com',
      name: 'Ada',
      posts: { create: [{ title: 'Notes on the Analytical Engine' }, { title: 'Sketch of the Engine' }] },
    },
  })

  // A transaction: publish every draft and count them, all or nothing.
  const [published, total] = await prisma.$transaction([
    prisma.post.updateMany({ where: { authorId: ada.id, published: false }, data: { published: true } }),
    prisma.post.count({ where: { authorId: ada.id } }),
  ])
  console.log(`transaction: published ${published.count} of ${total} posts`)

  // Reads, with the relation.
  const authors = await prisma.author.findMany({ include: { posts: { orderBy: { id: 'asc' } } } })
  for (const a of authors)
    console.log(`read: ${a.name} wrote ${a.posts.map((p) => `"${p.title}"`).join(', ')}`)

  const stats = () => getTokenProvider(adapter).stats()
  console.log(`tokens signed so far: ${stats().signed} (never printed; cache hits ${stats().hits})`)

  // TLS is not optional: a token only travels over verified TLS.
  try {
    new PrismaPgIam({ ...settings, ssl: false })
  } catch (err) {
    console.log(`ssl: false is refused: ${err.code}`)
  }

  // Fifteen minutes later, in effect: the token ages out and a failover drops every connection.
  emu.faults.maxTokenAge(1)
  await sleep(2100)
  emu.faults.dropConnections()
  await sleep(200)
  const count = await prisma.post.count()
  const after = emu.stats()
  console.log(
    `after expiry + failover: ${count} posts read on a new connection; tokens signed: ${stats().signed}; emulator refused ${after.rejected.ExpiredToken} expired token(s), accepted ${after.accepted} login(s)`,
  )
} catch (err) {
  const iam = getRdsIamError(err)
  console.error(iam ? `${iam.code}: ${iam.hint}` : err)
  process.exitCode = 1
} finally {
  await prisma.$disconnect()
  await emu.stop()
}
