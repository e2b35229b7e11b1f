import type { ConformanceHarness, ConnectionHandle, Engine, PoolHandle, Row } from '@rds-iam/testkit'
import type { PoolConnection } from 'mysql2'
import { createPool, getTokenProvider, type Mysql2ModuleLike } from '../src/index.js'

const rowsOf = (result: unknown): Row[] => (Array.isArray(result) ? (result as Row[]) : [])

/** The mysql2 callback-API harness for the conformance suite (optionally on an injected mysql2). */
export function mysql2Harness(
  engines: Engine[],
  options: { mysql2?: Mysql2ModuleLike; label?: string } = {},
): ConformanceHarness {
  return {
    adapter: options.label ?? 'mysql2',
    engines,
    async open(s, { max }): Promise<PoolHandle> {
      const pool = createPool(
        {
          host: s.host,
          port: s.port,
          user: s.user,
          database: s.database,
          ssl: s.ssl,
          iam: s.iam,
          connectionLimit: max,
          connectTimeout: 5000,
        },
        { mysql2: options.mysql2 },
      )
      const provider = getTokenProvider(pool)!
      return {
        query: (sql) =>
          new Promise((resolve, reject) =>
            pool.query(sql, (err, rows) => (err ? reject(err) : resolve(rowsOf(rows)))),
          ),
        acquire: () =>
          new Promise<ConnectionHandle>((resolve, reject) =>
            pool.getConnection((err, conn: PoolConnection) => {
              if (err) return reject(err)
              resolve({
                query: (sql) =>
                  new Promise((res, rej) => conn.query(sql, (e, rows) => (e ? rej(e) : res(rowsOf(rows))))),
                release: (destroy) => (destroy ? conn.destroy() : conn.release()),
              })
            }),
          ),
        tokenStats: () => provider.stats(),
        inspectTarget: () => pool,
        close: () =>
          new Promise<void>((resolve, reject) => pool.end((err) => (err ? reject(err) : resolve()))),
      }
    },
  }
}
