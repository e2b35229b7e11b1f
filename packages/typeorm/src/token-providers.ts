import type { TokenProvider } from '@rds-iam/core'
import { getTokenProvider as mysql2Provider } from '@rds-iam/mysql2'
import { getTokenProvider as pgProvider } from '@rds-iam/pg'
import type { DataSourceLike, MysqlDriverState, PostgresDriverState } from './internal-types.js'

/**
 * The token providers of a DataSource's pools: the primary's, and one per replica.
 *
 * @example
 * ```ts
 * const { master, slaves }: TokenProviders = getTokenProviders(dataSource)
 * ```
 */
export interface TokenProviders {
  /** The provider of the primary (or only) pool; `undefined` before `initialize()`. */
  master: TokenProvider | undefined
  /** One provider per `replication.slaves` entry, in order (each signs for its own host). */
  slaves: TokenProvider[]
}

/**
 * The token providers behind an initialized DataSource built from {@link withIam}'s options:
 * `stats()` for metrics, `invalidate()` after an out-of-band failure. Empty before
 * `initialize()` (the pools do not exist yet) and for DataSources without IAM.
 *
 * @example
 * ```ts
 * await dataSource.initialize()
 * const { master, slaves } = getTokenProviders(dataSource)
 * console.log(master?.stats(), slaves.map((p) => p.stats()))
 * ```
 */
export function getTokenProviders(dataSource: DataSourceLike): TokenProviders {
  const driver = dataSource?.driver as (PostgresDriverState & MysqlDriverState) | undefined
  if (!driver || typeof driver !== 'object') return { master: undefined, slaves: [] }
  const of = (pool: object | undefined): TokenProvider | undefined =>
    pool ? (pgProvider(pool) ?? mysql2Provider(pool)) : undefined
  const nodes = driver.poolCluster?._nodes
  if (nodes) {
    // TypeORM names the cluster's nodes MASTER and SLAVE0, SLAVE1, … (both majors).
    const slaves = Object.keys(nodes)
      .filter((id) => /^SLAVE\d+$/.test(id))
      .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
      .map((id) => of(nodes[id]?.pool))
    return { master: of(nodes.MASTER?.pool), slaves: slaves.filter((p) => p !== undefined) }
  }
  const master = of(driver.master ?? driver.pool)
  const slaves = (Array.isArray(driver.slaves) ? driver.slaves : []).map(of)
  return { master, slaves: slaves.filter((p) => p !== undefined) }
}

/**
 * The token provider of a DataSource's primary (or only) pool; see {@link getTokenProviders} for
 * replicas. `undefined` before `initialize()`.
 *
 * @example
 * ```ts
 * await dataSource.initialize()
 * console.log(getTokenProvider(dataSource)?.stats()) // { signed: 1, hits: 0, … }
 * ```
 */
export function getTokenProvider(dataSource: DataSourceLike): TokenProvider | undefined {
  return getTokenProviders(dataSource).master
}
