import type { ConformanceHarness, Engine, PoolHandle, Row } from '@rds-iam/testkit'
import { createPool, getTokenProvider, type PgModuleLike } from '../src/index.js'

/** The pg adapter's harness for the conformance suite: a `Pool` from this package. */
export function pgHarness(
  engines: Engine[],
  options: { pg?: PgModuleLike; label?: string; capabilities?: ConformanceHarness['capabilities'] } = {},
): ConformanceHarness {
  const { pg, label = 'pg', capabilities } = options
  return {
    adapter: label,
    engines,
    capabilities,
    async open(s, { max, acquireTimeoutMs }): Promise<PoolHandle> {
      const pool = createPool(
        {
          host: s.host,
          port: s.port,
          user: s.user,
          database: s.database,
          ssl: s.ssl,
          iam: s.iam,
          max,
          connectionTimeoutMillis: acquireTimeoutMs ?? 5000,
        },
        { pg },
      )
      // As in any pg app: an idle client dying (failover) is reported here, and the pool replaces it.
      pool.on('error', () => {})
      const provider = getTokenProvider(pool)!
      return {
        query: async (sql) => (await pool.query(sql)).rows as Row[],
        acquire: async () => {
          const client = await pool.connect()
          // A checked-out client reports a dropped connection as an 'error' event; pg requires the
          // app to listen while it holds the client (pg-pool listens only while it is idle).
          const lost = (): void => {}
          client.on('error', lost)
          return {
            query: async (sql) => (await client.query(sql)).rows as Row[],
            release: (destroy) => {
              client.off('error', lost)
              client.release(destroy === true)
            },
          }
        },
        tokenStats: () => provider.stats(),
        inspectTarget: () => pool,
        close: () => pool.end(),
      }
    },
  }
}
