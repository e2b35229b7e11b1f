import { type IamOptions, type TokenProvider, withAuthRetry } from '@rds-iam/core'
import type {
  Pool as CallbackPool,
  PoolCluster,
  PoolClusterOptions,
  PoolConnection,
  PoolOptions,
} from 'mysql2'
import { rememberError } from './error-recovery.js'
import type { Mysql2ModuleLike } from './internal-types.js'
import { loadMysql2 } from './mysql2-module.js'
import { type IamMysqlConfig, prepareIamConfig, rememberProvider, unwrapPluginError } from './with-iam.js'

/** mysql2 pool options with `iam` (required here). */
export type IamPoolOptions = Omit<PoolOptions, 'password' | 'ssl' | 'port'> &
  IamMysqlConfig & { iam: IamMysqlConfig['iam'] }

/** Where to find mysql2; defaults to the copy the application installed. */
export interface Mysql2Injection {
  /** The callback API module (`import mysql from 'mysql2'`). */
  mysql2?: Mysql2ModuleLike
}

type GetConnectionCallback = (err: NodeJS.ErrnoException | null, connection: PoolConnection) => void

/**
 * Makes `getConnection()` retry authentication failures with a fresh token. mysql2's `query()`
 * and `execute()` (and the promise wrapper's methods) acquire through `getConnection`, so they
 * are covered too. A failed new connection leaves the pool, so each attempt opens a new one.
 */
export function installRetry(pool: CallbackPool, provider: TokenProvider, iam: IamOptions): void {
  const original = pool.getConnection.bind(pool) as (cb: GetConnectionCallback) => void
  const acquire = (): Promise<PoolConnection> =>
    new Promise((resolve, reject) => {
      original((err, connection) => (err ? reject(unwrapPluginError(err)) : resolve(connection)))
    })
  Object.defineProperty(pool, 'getConnection', {
    configurable: true,
    writable: true,
    value: (callback: GetConnectionCallback) => {
      withAuthRetry(acquire, provider, iam.retry).then(
        (connection) => process.nextTick(callback, null, connection),
        (err: NodeJS.ErrnoException) =>
          process.nextTick(callback, rememberError(err), undefined as unknown as PoolConnection),
      )
    },
  })
}

/**
 * `mysql2.createPool` with IAM authentication (callback API; `.promise()` gives the promise
 * pool, or use `@rds-iam/mysql2/promise`). New connections get a current token; `getConnection`,
 * `query` and `execute` retry authentication failures.
 *
 * @example
 * ```ts
 * import { createPool } from '@rds-iam/mysql2'
 * const pool = createPool({ host: 'db.abc.eu-west-1.rds.amazonaws.com', user: 'app', database: 'app', iam: true })
 * pool.query('select 1', (err, rows) => { … })
 * ```
 */
export function createPool(config: IamPoolOptions, injection: Mysql2Injection = {}): CallbackPool {
  const prepared = prepareIamConfig(config, false)
  const pool = (injection.mysql2 ?? loadMysql2()).createPool(prepared.config) as CallbackPool
  installRetry(pool, prepared.provider, prepared.iam)
  rememberProvider(pool, prepared.provider)
  return pool
}

/**
 * `mysql2.createPoolCluster` where every node added with `iam` authenticates with IAM (each node
 * has its own token provider, since a token is signed for one endpoint) and retries
 * authentication failures. Nodes added without `iam` are left as mysql2 makes them.
 *
 * @example
 * ```ts
 * const cluster = createPoolCluster()
 * cluster.add('writer', { host: writerHost, user: 'app', iam: true })
 * cluster.add('reader', { host: readerHost, user: 'app', iam: true })
 * ```
 */
export function createPoolCluster(config?: PoolClusterOptions, injection: Mysql2Injection = {}): PoolCluster {
  const cluster = (injection.mysql2 ?? loadMysql2()).createPoolCluster(config) as PoolCluster
  const add = cluster.add.bind(cluster) as (id: string, config: object) => void
  Object.defineProperty(cluster, 'add', {
    configurable: true,
    writable: true,
    value: (idOrConfig: string | IamPoolOptions, maybeConfig?: IamPoolOptions) => {
      const [id, nodeConfig] =
        typeof idOrConfig === 'string' ? [idOrConfig, maybeConfig] : [undefined, idOrConfig as IamPoolOptions]
      if (!nodeConfig || typeof nodeConfig !== 'object' || !('iam' in nodeConfig)) {
        return id === undefined
          ? (add as unknown as (c: unknown) => void)(nodeConfig)
          : add(id, nodeConfig as unknown as object)
      }
      const prepared = prepareIamConfig(nodeConfig, false)
      const before = new Set(Object.keys(nodes(cluster)))
      if (id === undefined) (add as unknown as (c: unknown) => void)(prepared.config)
      else add(id, prepared.config)
      // mysql2 builds the node's pool inside add(); reach it to give that pool the retry too.
      for (const [key, node] of Object.entries(nodes(cluster))) {
        if (!before.has(key) && node?.pool) {
          installRetry(node.pool, prepared.provider, prepared.iam)
          rememberProvider(node.pool, prepared.provider)
        }
      }
    },
  })
  return cluster
}

function nodes(cluster: PoolCluster): Record<string, { pool?: CallbackPool } | undefined> {
  return ((cluster as unknown as { _nodes?: Record<string, { pool?: CallbackPool }> })._nodes ??
    {}) as Record<string, { pool?: CallbackPool } | undefined>
}
