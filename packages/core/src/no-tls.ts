import { RdsIamError } from './rds-iam-error.js'

// pg's own words when the server answers its SSLRequest with 'N' (lib/connection.js, pg 8.x).
const PG_NO_TLS_MESSAGE = 'The server does not support SSL connections'
// mysql2's code when the server's greeting lacks the SSL capability flag.
const MYSQL2_NO_TLS_CODE = 'HANDSHAKE_NO_SSL_SUPPORT'

/**
 * Whether `err` is a driver's report that the server offers no TLS at all: pg's
 * "The server does not support SSL connections" or mysql2's `HANDSHAKE_NO_SSL_SUPPORT`.
 * Both drivers stop before any credential goes out, so no token was sent.
 */
export function isNoTlsError(err: unknown): err is Error {
  if (!(err instanceof Error) || err instanceof RdsIamError) return false
  return err.message === PG_NO_TLS_MESSAGE || (err as { code?: unknown }).code === MYSQL2_NO_TLS_CODE
}

/**
 * Turns a driver's "this server offers no TLS" error (pg or mysql2, see {@link isNoTlsError}) into
 * `RdsIamError('RDS_IAM_INSECURE_TRANSPORT')` naming the endpoint and the fix, with the driver
 * error as `cause` (`endpoint`: the host and port the socket went to, for the message); every
 * other error is returned unchanged. One mapper for every adapter, so pg,
 * mysql2, knex and TypeORM users get the same code and hint for the same server.
 *
 * An RDS/Aurora endpoint and RDS Proxy always offer TLS, so a server that does not is another
 * server (a wrong host/port, a local database) or something in between that terminates TLS.
 *
 * @example
 * ```ts
 * const driverError = Object.assign(new Error('Server does not support secure connection'), { code: 'HANDSHAKE_NO_SSL_SUPPORT' })
 * explainNoTls(driverError, { hostname: 'db.example', port: 3306 }) // RdsIamError RDS_IAM_INSECURE_TRANSPORT
 * ```
 */
export function explainNoTls(err: unknown, endpoint?: { hostname: string; port: number }): unknown {
  if (!isNoTlsError(err)) return err
  const who = endpoint ? `${endpoint.hostname}:${endpoint.port}` : 'the server'
  return new RdsIamError(
    'RDS_IAM_INSECURE_TRANSPORT',
    `${who} does not offer TLS, and an IAM token is only sent over verified TLS (nothing was sent)`,
    'is this the RDS endpoint? RDS, Aurora and RDS Proxy always offer TLS: check host and port (through a tunnel, that it leads to the endpoint) and that no proxy in between terminates TLS. For a local server without TLS in tests, set ssl: false and iam: { insecure: true }',
    { cause: err },
  )
}
