import { createRequire } from 'node:module'
import type { ConformanceHarness, ConnectionHandle, Engine, PoolHandle, Row } from '@rds-iam/testkit'

type Knex = import('knex', { with: { 'resolution-mode': 'require' }}).Knex
type KnexConfig = import('knex', { with: { 'resolution-mode': 'require' }}).Knex.Config

import { getTokenProvider, type KnexModuleLike, withIam } from '../src/index.js'

const require = createRequire(import.meta.url)

/** The knex module a test runs on: the lowest supported (the dev dependency) or the newest. */
export type KnexVersion = 'knex' | 'knex-latest'

/** Loads one of the installed knex copies. */
export function loadKnexVersion(version: KnexVersion): KnexModuleLike & ((config: KnexConfig) => Knex) {
  return require(version)
}

type RawConnection = {
  __knex__disposed?: unknown
  end?: (cb?: () => void) => unknown
  destroy?: () => void
}

/** Rows of `knex.raw()`: pg returns a result with `rows`, mysql2 a `[rows, fields]` pair. */
export function rowsOf(result: unknown): Row[] {
  if (Array.isArray(result)) return Array.isArray(result[0]) ? (result[0] as Row[]) : []
  const rows = (result as { rows?: unknown } | undefined)?.rows
  return Array.isArray(rows) ? (rows as Row[]) : []
}

/** The knex adapter's harness for the conformance suite: one knex instance per pool. */
export function knexHarness(engines: Engine[], version: KnexVersion = 'knex'): ConformanceHarness {
  const knex = loadKnexVersion(version)
  return {
    adapter: version === 'knex' ? 'knex' : 'knex@latest',
    engines,
    async open(s, { max }): Promise<PoolHandle> {
      const engine = engines[0]
      const client = engine === 'mysql' ? 'mysql2' : 'pg'
      const db = knex(
        withIam(
          {
            client,
            connection: {
              host: s.host,
              port: s.port,
              user: s.user,
              database: s.database,
              ssl: s.ssl,
              iam: s.iam,
              ...(client === 'pg' ? { connectionTimeoutMillis: 5000 } : { connectTimeout: 5000 }),
            },
            pool: { min: 0, max },
            acquireConnectionTimeout: 30_000,
            // knex warns on stdout for every connection a failover closed; the cases assert outcomes.
            log: { warn: () => {} },
          },
          { knex },
        ),
      )
      const provider = getTokenProvider(db)!
      return {
        query: async (sql) => rowsOf(await db.raw(sql)),
        acquire: async (): Promise<ConnectionHandle> => {
          const conn = (await db.client.acquireConnection()) as RawConnection
          return {
            query: async (sql) => rowsOf(await db.raw(sql).connection(conn)),
            release: async (destroy) => {
              if (destroy) {
                // knex's pool drops a disposed connection instead of handing it out again.
                conn.__knex__disposed = 'closed by the test'
                if (client === 'pg') await new Promise<void>((resolve) => conn.end?.(() => resolve()))
                else conn.destroy?.()
              }
              await db.client.releaseConnection(conn)
            },
          }
        },
        tokenStats: () => provider.stats(),
        inspectTarget: () => db,
        close: () => db.destroy(),
      }
    },
  }
}
