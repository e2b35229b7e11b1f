import type { ConformanceHarness, Engine, PoolHandle, Row } from '@rds-iam/testkit'
import type { DataSourceOptions, QueryRunner } from 'typeorm'
import { getTokenProvider, withIam } from '../src/index.js'
import type { TypeormUnderTest } from './typeorm-versions.js'

/**
 * The TypeORM adapter's harness for the conformance suite: a DataSource from `withIam` options on
 * the given TypeORM copy, its pool reached through TypeORM's own API (`query`, `QueryRunner`).
 */
export function typeormHarness(engine: Engine, typeorm: TypeormUnderTest): ConformanceHarness {
  return {
    adapter: `typeorm@${typeorm.version}`,
    engines: [engine],
    async open(s, { max, acquireTimeoutMs }): Promise<PoolHandle> {
      const mysql = engine === 'mysql'
      const options = withIam(
        mysql
          ? {
              type: 'mysql',
              host: s.host,
              port: s.port,
              username: s.user,
              database: s.database,
              ssl: s.ssl,
              iam: s.iam,
              poolSize: max,
              connectTimeout: 5000,
              driver: typeorm.mysql2,
            }
          : {
              type: 'postgres',
              host: s.host,
              port: s.port,
              username: s.user,
              database: s.database,
              ssl: s.ssl,
              iam: s.iam,
              poolSize: max,
              // pg-pool's connectionTimeoutMillis: also how long a caller waits for a pooled client.
              connectTimeoutMS: acquireTimeoutMs ?? 5000,
              driver: typeorm.pg,
            },
        { typeormVersion: typeorm.version },
      )
      const dataSource = new typeorm.DataSource(options as DataSourceOptions)
      // The first use initializes, as an app does at startup; a failed initialize() is tried
      // again by the next use (TypeORM allows that on the same DataSource).
      let initializing: Promise<unknown> | undefined
      const ready = async (): Promise<void> => {
        initializing ??= dataSource.initialize().catch((err: unknown) => {
          initializing = undefined
          throw err
        })
        await initializing
      }
      return {
        query: async (sql) => {
          await ready()
          return rowsOf(await dataSource.query(sql))
        },
        acquire: async () => {
          await ready()
          const runner = dataSource.createQueryRunner()
          await runner.connect()
          return {
            query: async (sql) => rowsOf(await runner.query(sql)),
            release: (destroy) => (destroy ? destroyConnection(runner, mysql) : runner.release()),
          }
        },
        tokenStats: () => {
          const provider = getTokenProvider(dataSource)
          if (!provider) throw new Error('the DataSource is not initialized: no pool, no token provider yet')
          return provider.stats()
        },
        inspectTarget: () => dataSource,
        close: async () => {
          if (dataSource.isInitialized) await dataSource.destroy()
        },
      }
    },
  }
}

function rowsOf(result: unknown): Row[] {
  return Array.isArray(result) ? (result as Row[]) : []
}

/** Closes the runner's physical connection instead of returning it to the pool. */
async function destroyConnection(runner: QueryRunner, mysql: boolean): Promise<void> {
  if (mysql) {
    // mysql2's PoolConnection.destroy() takes it out of the pool; the runner is then spent.
    ;(runner as unknown as { databaseConnection: { destroy(): void } }).databaseConnection.destroy()
    ;(runner as unknown as { isReleased: boolean }).isReleased = true
    return
  }
  // pg-pool discards a client released with an error (TypeORM's own path for broken connections).
  await (
    runner as unknown as { releasePostgresConnection(err: Error): Promise<void> }
  ).releasePostgresConnection(new Error('closed by the conformance suite'))
}
