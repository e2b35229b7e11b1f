import { withAuthRetry } from '@rds-iam/core'
import type { Connection, ConnectionOptions } from 'mysql2'
import type { Connection as PromiseConnection } from 'mysql2/promise'
import type { Mysql2Injection } from './iam-pool.js'
import type { Mysql2PromiseModuleLike } from './internal-types.js'
import { loadMysql2, loadMysql2Promise } from './mysql2-module.js'
import { type IamMysqlConfig, prepareIamConfig, rememberProvider, unwrapPluginError } from './with-iam.js'

/** mysql2 connection options with `iam` (required here). */
export type IamConnectionOptions = Omit<ConnectionOptions, 'password' | 'ssl' | 'port'> &
  IamMysqlConfig & { iam: IamMysqlConfig['iam'] }

/**
 * `mysql2.createConnection` with IAM authentication (callback API). The connection starts
 * connecting at once and mysql2 cannot reconnect a failed connection object, so this form does
 * not retry. For retries use a pool, {@link connectWithRetry}, or the promise API's
 * `createConnection`.
 *
 * @example
 * ```ts
 * const conn = createConnection({ host, user: 'app', database: 'app', iam: true })
 * conn.query('select 1', (err, rows) => { … })
 * ```
 */
export function createConnection(config: IamConnectionOptions, injection: Mysql2Injection = {}): Connection {
  const prepared = prepareIamConfig(config, false)
  const connection = (injection.mysql2 ?? loadMysql2()).createConnection(prepared.config) as Connection
  rememberProvider(connection, prepared.provider)
  return connection
}

/**
 * The callback-API way to connect with retries: calls back with a connected connection once a
 * login succeeds (each attempt is a new connection with a fresh token), or with the final error.
 *
 * @example
 * ```ts
 * connectWithRetry({ host, user: 'app', iam: true }, (err, conn) => { … })
 * ```
 */
export function connectWithRetry(
  config: IamConnectionOptions,
  callback: (err: Error | null, connection?: Connection) => void,
  injection: Mysql2Injection = {},
): void {
  const prepared = prepareIamConfig(config, false)
  const mysql = injection.mysql2 ?? loadMysql2()
  const attempt = () =>
    new Promise<Connection>((resolve, reject) => {
      const connection = mysql.createConnection(prepared.config) as Connection
      connection.connect((err) => {
        if (!err) return resolve(connection)
        connection.destroy()
        reject(unwrapPluginError(err))
      })
    })
  withAuthRetry(attempt, prepared.provider, prepared.iam.retry).then(
    (connection) => {
      rememberProvider(connection, prepared.provider)
      process.nextTick(callback, null, connection)
    },
    (err: Error) => process.nextTick(callback, err),
  )
}

/** Where to find `mysql2/promise`; defaults to the application's copy. */
export interface Mysql2PromiseInjection {
  /** The promise API module (`import mysql from 'mysql2/promise'`). */
  mysql2?: Mysql2PromiseModuleLike
}

/**
 * `mysql2/promise` `createConnection` with IAM authentication; retries authentication failures
 * with a fresh token (a new connection per attempt). Other errors are never retried.
 *
 * @example
 * ```ts
 * import { createConnection } from '@rds-iam/mysql2/promise'
 * const conn = await createConnection({ host, user: 'app', database: 'app', iam: true })
 * ```
 */
export async function createPromiseConnection(
  config: IamConnectionOptions,
  injection: Mysql2PromiseInjection = {},
): Promise<PromiseConnection> {
  const prepared = prepareIamConfig(config, false)
  const mysql = injection.mysql2 ?? loadMysql2Promise()
  const connection = await withAuthRetry(
    async () => {
      try {
        return (await mysql.createConnection(prepared.config)) as PromiseConnection
      } catch (err) {
        throw unwrapPluginError(err)
      }
    },
    prepared.provider,
    prepared.iam.retry,
  )
  rememberProvider(connection, prepared.provider)
  return connection
}
