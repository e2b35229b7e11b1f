// The app behind examples/prisma: Prisma 7 with IAM authentication through @rds-iam/prisma. It
// takes a running emulator and a logger, so `main.mjs` runs it standalone and `pnpm demo` beside the
// other examples. The client in ../generated comes from `npm run generate` (`scripts/generate.mjs`).
import { setTimeout as sleep } from 'node:timers/promises'
import { getTokenProvider, PrismaPgIam } from '@rds-iam/prisma'
import generated from '../generated/index.js'

const { PrismaClient } = generated

/**
 * @param {{
 *   emu: import('@rds-iam/emulator').Emulator,
 *   log?: (line: string) => void,
 *   step?: <T>(label: string, work: () => Promise<T>) => Promise<T>,
 *   user?: string,
 * }} options
 * @returns {Promise<{ tokensSigned: number, tlsVerified: boolean }>}
 */
export async function run({ emu, log = console.log, step = (_label, work) => work(), user = 'demo_app' }) {
  // Against real RDS the adapter is `new PrismaPgIam({ host, user, database, iam: true })`: region
  // from the hostname, credentials from the AWS default chain, TLS verified with the RDS CA bundle.
  // The emulator has its own CA and test key.
  const settings = {
    host: 'localhost',
    port: emu.port,
    user,
    database: 'postgres',
    ssl: { ca: emu.ca },
    iam: { region: emu.region, credentials: emu.credentials[0] },
  }
  const adapter = new PrismaPgIam(settings)
  const prisma = new PrismaClient({ adapter })

  let tls
  // pg's TLS socket of the first connection, to show the certificate was verified before the token went out.
  adapter.pool?.on('connect', (client) => {
    tls ??= client.connection.stream
  })

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
    log(`TLS verified: ${tls?.authorized === true}, certificate for ${tls?.getPeerCertificate().subject.CN}`)
    log(`transaction: published ${published.count} of ${total} posts`)

    // Reads, with the relation.
    const authors = await prisma.author.findMany({ include: { posts: { orderBy: { id: 'asc' } } } })
    for (const a of authors) log(`read: ${a.name} wrote ${a.posts.map((p) => `"${p.title}"`).join(', ')}`)

    const stats = () => getTokenProvider(adapter).stats()
    log(`tokens signed so far: ${stats().signed} (never printed; cache hits ${stats().hits})`)

    // TLS is not optional: a token only travels over verified TLS.
    try {
      new PrismaPgIam({ ...settings, ssl: false })
    } catch (err) {
      log(`ssl: false is refused: ${err.code}`)
    }

    // Fifteen minutes later, in effect: the token ages out and a failover drops every connection.
    const expiredBefore = emu.stats().rejected.ExpiredToken
    emu.faults.maxTokenAge(1)
    await step('letting the token age out, then a failover drops every connection', async () => {
      await sleep(2100)
      emu.faults.dropConnections()
      await sleep(200)
    })
    const count = await prisma.post.count()
    const after = emu.stats()
    log(
      `after expiry + failover: ${count} posts read on a new connection; tokens signed: ${stats().signed}; emulator refused ${after.rejected.ExpiredToken - expiredBefore} expired token(s), accepted ${after.accepted} login(s)`,
    )
    return { tokensSigned: stats().signed, tlsVerified: tls?.authorized === true }
  } finally {
    await prisma.$disconnect()
  }
}
