import { withAuthRetry } from '@rds-iam/core'
import type {
  Pool as CallbackPool,
  PoolCluster,
  PoolClusterOptions,
  PoolConnection,
  PoolOptions,
} from 'mysql2'
import { rememberError } from './error-recovery.js'
import type { Mysql2ModuleLike, PreparedIam } from './internal-types.js'
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

// Marks the callbacks of our own attempts. mysql2 hands a queued waiter back through
// `pool.getConnection` (Pool.releaseConnection, after a connection failed or left the pool), which
// is our override: such a call continues an attempt already running and must not start a retry
// loop of its own, or loops nest and a refused login multiplies (issue 8: ~1,500 logins for 20 callers).
const ATTEMPT = Symbol('rds-iam pool attempt')

/** mysql2's pool internals read to tell whether `getConnection` will open a new connection. */
interface PoolInternals {
  _freeConnections?: { length: number }
  _allConnections?: { length: number }
  _closed?: boolean
  config?: { connectionLimit?: number }
}

/**
 * Makes `getConnection()` retry authentication failures with a fresh token, at most
 * `retry.maxAttempts` logins per caller. mysql2's `query()` and `execute()` (and the promise
 * wrapper's methods) acquire through `getConnection`, so they are covered too. A failed new
 * connection leaves the pool, so each attempt opens a new one. When an attempt will open a
 * connection, the token is prepared first (limiter permit, credentials, signing), so a broken
 * credential source fails the caller before any socket opens.
 */
export function installRetry(pool: CallbackPool, prepared: PreparedIam): void {
  const { auth, handoff, iam } = prepared
  const original = pool.getConnection.bind(pool) as (cb: GetConnectionCallback) => void
  const internals = pool as unknown as PoolInternals
  const opensNewConnection = (): boolean => {
    const free = internals._freeConnections?.length
    const all = internals._allConnections?.length
    const limit = internals.config?.connectionLimit
    if (internals._closed || free === undefined || all === undefined || limit === undefined) return false
    return free === 0 && (limit === 0 || all < limit)
  }
  // One try of one attempt: at most one new connection, so at most one login.
  const tryOnce = (callback: GetConnectionCallback): void => {
    if (!opensNewConnection()) {
      original(callback)
      return
    }
    auth.prepare().then(
      () => {
        // mysql2 builds the connection synchronously inside getConnection; the socket factory
        // takes the handoff there and connects at once instead of preparing again.
        handoff.ready = true
        try {
          original(callback)
        } finally {
          handoff.ready = false
        }
      },
      (err: Error) => process.nextTick(callback, err, undefined as unknown as PoolConnection),
    )
  }
  const acquire = (): Promise<PoolConnection> =>
    new Promise((resolve, reject) => {
      const callback: GetConnectionCallback = (err, connection) =>
        err ? reject(unwrapPluginError(err, auth)) : resolve(connection)
      Object.defineProperty(callback, ATTEMPT, { value: true })
      tryOnce(callback)
    })
  Object.defineProperty(pool, 'getConnection', {
    configurable: true,
    writable: true,
    value: (callback: GetConnectionCallback) => {
      if (typeof callback === 'function' && ATTEMPT in callback) {
        tryOnce(callback)
        return
      }
      withAuthRetry(acquire, prepared.provider, iam.retry).then(
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
  installRetry(pool, prepared)
  rememberProvider(pool, prepared.provider)
  return pool
}

/**
 * mysql2's `PoolCluster` whose `add` also takes node configs with `iam` (mysql2's own typings
 * only know `PoolOptions`).
 *
 * @example
 * ```ts
 * const cluster: IamPoolCluster = createPoolCluster()
 * cluster.add('writer', { host: writerHost, user: 'app', iam: true })
 * ```
 */
export interface IamPoolCluster extends PoolCluster {
  add(config: IamPoolOptions | PoolOptions): void
  add(group: string, connectionUri: string): void
  add(group: string, config: IamPoolOptions | PoolOptions): void
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
export function createPoolCluster(
  config?: PoolClusterOptions,
  injection: Mysql2Injection = {},
): IamPoolCluster {
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
          installRetry(node.pool, prepared)
          rememberProvider(node.pool, prepared.provider)
        }
      }
    },
  })
  return cluster as IamPoolCluster
}

function nodes(cluster: PoolCluster): Record<string, { pool?: CallbackPool } | undefined> {
  return ((cluster as unknown as { _nodes?: Record<string, { pool?: CallbackPool }> })._nodes ??
    {}) as Record<string, { pool?: CallbackPool } | undefined>
}
