import type { ConnectionSettings, Row } from '@rds-iam/testkit'
import { runRetryCases } from '@rds-iam/testkit'
import { expect } from 'vitest'
import { getRdsIamError, PrismaPgIam } from '../src/index.js'
import { loadPrismaClient, type PrismaClientLike } from './prisma-fixtures.js'

const PrismaClient = loadPrismaClient('pg')

/** Runs `fn` on a fresh PrismaClient over PrismaPgIam; what the app sees, unwrapped with getRdsIamError. */
async function withPrisma(
  s: ConnectionSettings,
  fn: (prisma: PrismaClientLike) => Promise<Row[]>,
): Promise<Row[]> {
  const prisma = new PrismaClient({
    adapter: new PrismaPgIam({
      host: s.host,
      port: s.port,
      user: s.user,
      database: s.database,
      ssl: s.ssl,
      iam: s.iam,
    }),
  })
  try {
    return await fn(prisma)
  } catch (err) {
    throw getRdsIamError(err) ?? err
  } finally {
    await prisma.$disconnect()
  }
}

// The MariaDB adapter's retry lives in the connector's own pool (which also retries network
// failures by design); it is covered by the conformance suite and mariadb-pool.test.ts.
runRetryCases({
  adapter: 'PrismaPgIam',
  engine: 'postgres',
  entryPoints: [
    { name: '$queryRaw', run: (s) => withPrisma(s, (p) => p.$queryRawUnsafe<Row[]>('select 1 as one')) },
    {
      name: 'interactive $transaction',
      run: (s) => withPrisma(s, (p) => p.$transaction((tx) => tx.$queryRawUnsafe<Row[]>('select 1 as one'))),
    },
    {
      name: 'batch $transaction',
      run: (s) =>
        withPrisma(
          s,
          async (p) => (await p.$transaction([p.$queryRawUnsafe('select 1 as one')]))[0] as Row[],
        ),
    },
  ],
  expectAuthCause(cause) {
    expect((cause as { code?: string }).code).toBe('28000')
  },
  async connectToHangup(endpoint) {
    const prisma = new PrismaClient({
      adapter: new PrismaPgIam({
        host: endpoint.host,
        port: endpoint.port,
        user: 'app',
        database: 'db',
        ssl: false,
        iam: {
          region: 'us-east-1',
          credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x' },
          insecure: true,
        },
      }),
    })
    try {
      return await prisma.$queryRawUnsafe('select 1').then(
        () => undefined,
        (err: unknown) => err,
      )
    } finally {
      await prisma.$disconnect()
    }
  },
})
