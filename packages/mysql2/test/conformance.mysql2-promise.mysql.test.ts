import type { PoolHandle, Row } from '@rds-iam/testkit'
import { runConformance } from '@rds-iam/testkit'
import { createPool, getTokenProvider } from '../src/promise.js'

const rowsOf = (result: unknown): Row[] => (Array.isArray(result) ? (result as Row[]) : [])

runConformance({
  adapter: 'mysql2/promise',
  engines: ['mysql'],
  async open(s, { max }): Promise<PoolHandle> {
    const pool = createPool({
      host: s.host,
      port: s.port,
      user: s.user,
      database: s.database,
      ssl: s.ssl,
      iam: s.iam,
      connectionLimit: max,
      connectTimeout: 5000,
    })
    // The promise pool wraps mysql2's callback pool, where the provider is registered.
    const provider = getTokenProvider(pool.pool)!
    return {
      query: async (sql) => rowsOf((await pool.query(sql))[0]),
      acquire: async () => {
        const conn = await pool.getConnection()
        return {
          query: async (sql) => rowsOf((await conn.query(sql))[0]),
          release: (destroy) => (destroy ? conn.destroy() : conn.release()),
        }
      },
      tokenStats: () => provider.stats(),
      inspectTarget: () => pool,
      close: () => pool.end(),
    }
  },
})
