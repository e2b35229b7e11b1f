// Entry point `@rds-iam/mysql2/promise`, mirroring `mysql2/promise`.
import type { Pool as PromisePool } from 'mysql2/promise'
import { recoverError } from './error-recovery.js'
import { createPromiseConnection } from './iam-connection.js'
import { createPool as createCallbackPool, type IamPoolOptions, type Mysql2Injection } from './iam-pool.js'
import { getTokenProvider, rememberProvider } from './with-iam.js'

/**
 * `mysql2/promise` `createPool` with IAM authentication: new connections get a current token;
 * `getConnection()`, `query()` and `execute()` retry authentication failures.
 *
 * @example
 * ```ts
 * import { createPool } from '@rds-iam/mysql2/promise'
 * const pool = createPool({ host: 'db.abc.eu-west-1.rds.amazonaws.com', user: 'app', database: 'app', iam: true })
 * const [rows] = await pool.query('select 1')
 * ```
 */
export function createPool(config: IamPoolOptions, injection: Mysql2Injection = {}): PromisePool {
  // The promise pool wraps mysql2's callback pool, so the retry installed there covers both.
  const callbackPool = createCallbackPool(config, injection)
  const pool = callbackPool.promise() as PromisePool
  const provider = getTokenProvider(callbackPool)
  if (provider) rememberProvider(pool, provider)
  for (const method of ['query', 'execute', 'getConnection'] as const) {
    const original = (pool[method] as (...args: unknown[]) => Promise<unknown>).bind(pool)
    Object.defineProperty(pool, method, {
      configurable: true,
      writable: true,
      value: (...args: unknown[]) =>
        original(...args).catch((err: unknown) => {
          throw recoverError(err)
        }),
    })
  }
  return pool
}

/**
 * `mysql2/promise` `createConnection` with IAM authentication; retries authentication failures
 * with a fresh token (a new connection per attempt).
 *
 * @example
 * ```ts
 * import { createConnection } from '@rds-iam/mysql2/promise'
 * const conn = await createConnection({ host, user: 'app', database: 'app', iam: true })
 * ```
 */
export const createConnection: typeof createPromiseConnection = createPromiseConnection

export type { IamOption, IamOptions, TokenProvider } from '@rds-iam/core'
export { RdsIamError } from '@rds-iam/core'
export type { IamConnectionOptions, Mysql2PromiseInjection } from './iam-connection.js'
export type { IamPoolOptions, Mysql2Injection } from './iam-pool.js'
export { SUPPORTED_MYSQL2_VERSIONS } from './supported-versions.js'
export type { IamAppliedMysqlConfig, IamAuthPlugin, IamMysqlConfig, IamSslOptions } from './with-iam.js'
export { getTokenProvider, withIam } from './with-iam.js'
