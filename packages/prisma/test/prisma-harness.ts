import type { ConformanceHarness, ConnectionHandle, Engine, PoolHandle, Row } from '@rds-iam/testkit'
import { getRdsIamError, getTokenProvider } from '../src/index.js'
import { loadPrismaClient, type PrismaClientLike } from './prisma-fixtures.js'

/** Builds the adapter under test for one set of connection settings. */
export type AdapterMaker = (settings: Parameters<ConformanceHarness['open']>[0], max: number) => object

/**
 * The conformance harness for a long-lived `PrismaClient` over an adapter of this package. Every
 * query goes through Prisma (`$queryRawUnsafe`); a held connection is one of the adapter's pool;
 * errors are what an app sees, with the RdsIamError Prisma carries unwrapped by `getRdsIamError`.
 */
export function prismaHarness(
  label: string,
  engines: Engine[],
  flavour: 'pg' | 'mysql',
  makeAdapter: AdapterMaker,
  hold: HoldConnection,
  capabilities?: ConformanceHarness['capabilities'],
): ConformanceHarness {
  const PrismaClient = loadPrismaClient(flavour)
  return {
    adapter: label,
    engines,
    capabilities,
    async open(settings, { max }): Promise<PoolHandle> {
      const adapter = makeAdapter(settings, max)
      const prisma = new PrismaClient({ adapter })
      const provider = getTokenProvider(adapter)!
      const run = async (client: PrismaClientLike, sql: string): Promise<Row[]> => {
        try {
          const rows = await client.$queryRawUnsafe<Row[]>(sql)
          return Array.isArray(rows) ? rows : []
        } catch (err) {
          throw getRdsIamError(err) ?? err
        }
      }
      return {
        query: (sql) => run(prisma, sql),
        // Held connections come from the adapter's own pool, the one Prisma queries through:
        // Prisma can pin a connection only inside an interactive transaction, and PGlite runs every
        // session in one backend, where an open transaction blocks all the others.
        acquire: () => hold(adapter),
        tokenStats: () => provider.stats(),
        inspectTarget: () => prisma,
        close: () => prisma.$disconnect(),
      }
    },
  }
}

/** The driver pool inside an adapter of this package, and how to hold one of its connections. */
export type HoldConnection = (adapter: object) => Promise<ConnectionHandle>
