import { withAuthRetry } from '@rds-iam/core'
import type { Connection, ConnectionOptions } from 'mysql2'
import type { Connection as PromiseConnection } from 'mysql2/promise'
import type { Mysql2Injection } from './iam-pool.js'
import type { Mysql2ModuleLike, Mysql2PromiseModuleLike, PreparedIam } from './internal-types.js'
import { loadMysql2, loadMysql2Promise } from './mysql2-module.js'
import { socketPreparing } from './prepared-socket.js'
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
  const connection = openDeferred(injection.mysql2 ?? loadMysql2(), prepared)
  rememberProvider(connection, prepared.provider)
  return connection
}

/** mysql2's connection internals for its connect timer (same names in 3.9 and 3.2x). */
interface ConnectTimerInternals {
  stream?: { connecting?: boolean }
  _notifyError?: (err: unknown) => unknown
  _closing?: boolean
  connectTimeout?: NodeJS.Timeout | null
  _handleTimeoutError?: () => void
  config?: { connectTimeout?: number }
}

/**
 * A callback-API connection whose socket waits for `auth.prepare()` (see prepared-socket.ts).
 * mysql2 starts its connect timer as it builds the connection; held while the token is prepared
 * and started when the socket really connects, so a hung credential source ends in
 * `RDS_IAM_CREDENTIALS` (after `iam.credentialTimeoutMs`), not in mysql2's ETIMEDOUT racing it.
 */
function openDeferred(mysql: Mysql2ModuleLike, prepared: PreparedIam): Connection {
  const connection = mysql.createConnection(prepared.config) as Connection
  const internals = connection as unknown as ConnectTimerInternals
  // A callback-API connection hands mysql2's errors straight to the connect callback, the queued
  // queries and 'error'; all of them come from _notifyError (3.9 and 3.2x). There the caller gets
  // what the other entry points give: the plugin's RdsIamError instead of mysql2's wrapper, and
  // RDS_IAM_INSECURE_TRANSPORT for a server without TLS. mysql2 closes the connection when the
  // error it notifies is `fatal`, so the replacement keeps that flag.
  const notify = internals._notifyError
  if (typeof notify === 'function') {
    internals._notifyError = function (this: unknown, err: unknown) {
      const mapped = unwrapPluginError(err, prepared.auth)
      if (mapped !== err && mapped instanceof Error && (err as { fatal?: unknown }).fatal === true) {
        ;(mapped as Error & { fatal?: boolean }).fatal = true
      }
      return notify.call(this, mapped)
    }
  }
  const preparing = socketPreparing(internals.stream)
  const timer = internals.connectTimeout
  const onTimeout = internals._handleTimeoutError
  if (preparing && timer && typeof onTimeout === 'function') {
    clearTimeout(timer)
    internals.connectTimeout = null
    preparing.then(() => {
      const ms = internals.config?.connectTimeout
      // Not when the connection was ended or destroyed meanwhile: the timer would report an
      // ETIMEDOUT 'error' on a connection its owner has let go of.
      if (!ms || internals._closing || !internals.stream?.connecting) return
      internals.connectTimeout = setTimeout(() => onTimeout.call(connection), ms)
    })
  }
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
      const connection = openDeferred(mysql, prepared)
      connection.connect((err) => {
        if (!err) return resolve(connection)
        connection.destroy()
        reject(unwrapPluginError(err, prepared.auth))
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
      // Prepared before mysql2 builds the connection, so its connect timer never races the
      // credential timeout; the socket factory takes the handoff and connects at once.
      await prepared.auth.prepare()
      let connecting: Promise<unknown>
      prepared.handoff.ready = true
      try {
        connecting = mysql.createConnection(prepared.config)
      } finally {
        prepared.handoff.ready = false
      }
      try {
        return (await connecting) as PromiseConnection
      } catch (err) {
        throw unwrapPluginError(err, prepared.auth)
      }
    },
    prepared.provider,
    prepared.iam.retry,
  )
  rememberProvider(connection, prepared.provider)
  return connection
}
