import type { ConformanceHarness, ConnectionSettings, Engine, PoolHandle, Row } from '@rds-iam/testkit'
import type { Options, Sequelize as SequelizeInstance } from 'sequelize'
import Sequelize6Lowest from 'sequelize'
import Sequelize6Latest from 'sequelize-latest'
import { getTokenProvider, withIam } from '../src/index.js'

/** A Sequelize class: the lowest supported (the devDependency) or the newest 6.x. */
export type SequelizeClass = new (options: Options) => SequelizeInstance

export const SEQUELIZE_VERSIONS = {
  lowest: (Sequelize6Lowest as unknown as { Sequelize: SequelizeClass }).Sequelize,
  latest: (Sequelize6Latest as unknown as { Sequelize: SequelizeClass }).Sequelize,
} as const

/** Which dialect a conformance engine is reached with. */
export type HarnessDialect = 'postgres' | 'mysql'

// Sequelize connection-manager internals the harness holds a connection with, as an app's own
// code would through a transaction.
interface Manager {
  getConnection(options?: { type?: string }): Promise<object>
  releaseConnection(connection: object): void
  destroyConnection(connection: object): Promise<void>
}

/** Sequelize options for a conformance/feature test: the settings plus quiet logging and short timeouts. */
export function optionsFor(
  s: ConnectionSettings,
  dialect: HarnessDialect,
  max: number,
  extra: Partial<Options> = {},
): Options & { iam: ConnectionSettings['iam'] } {
  const connectTimeout = dialect === 'postgres' ? { connectionTimeoutMillis: 5000 } : { connectTimeout: 5000 }
  return {
    dialect,
    host: s.host,
    port: s.port,
    username: s.user,
    database: s.database,
    dialectOptions: { ssl: s.ssl, ...connectTimeout },
    pool: { max, min: 0, acquire: 30_000 },
    logging: false,
    iam: s.iam,
    ...extra,
  }
}

/**
 * The Sequelize adapter's harness: `new Sequelize(withIam(options))` of the given version. The
 * server version is given (`databaseVersion`), as apps that know their engine do: otherwise
 * Sequelize's version probe opens one extra connection before the first query, and the suite
 * counts logins exactly. The probe itself is tested in sequelize-features.test.ts.
 */
export function sequelizeHarness(
  engines: Engine[],
  options: { Sequelize: SequelizeClass; label: string; dialect: HarnessDialect },
): ConformanceHarness {
  return {
    adapter: options.label,
    engines,
    async open(s, { max }): Promise<PoolHandle> {
      const { dialect } = options
      const sequelize = new options.Sequelize(
        withIam(
          optionsFor(s, dialect, max, {
            databaseVersion: dialect === 'postgres' ? '15.0.0' : '10.11.0',
          } as Partial<Options>),
        ),
      )
      const manager = sequelize.connectionManager as unknown as Manager
      const provider = getTokenProvider(sequelize)!
      const run = async (sql: string, connection?: object): Promise<Row[]> => {
        const select = /^\s*select\b/i.test(sql)
        const result = await sequelize.query(sql, {
          raw: true,
          // Typed as apps type their raw queries: rows for a SELECT, [results, metadata] otherwise.
          type: (select ? 'SELECT' : 'RAW') as never,
          ...(connection ? { transaction: { connection } as never } : {}),
        })
        const rows = select ? result : (result as unknown[])[0]
        return Array.isArray(rows) ? (rows as Row[]) : []
      }
      return {
        query: (sql) => run(sql),
        acquire: async () => {
          const connection = await manager.getConnection({ type: 'SELECT' })
          return {
            query: (sql) => run(sql, connection),
            release: async (destroy) => {
              if (destroy) await manager.destroyConnection(connection)
              else manager.releaseConnection(connection)
            },
          }
        },
        tokenStats: () => provider.stats(),
        inspectTarget: () => sequelize,
        close: () => sequelize.close(),
      }
    },
  }
}
