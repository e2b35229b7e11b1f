import { type ConnectionAuth, explainNoTls } from '@rds-iam/core'

/**
 * Turns a driver error that has one known cause into a typed `RdsIamError` naming the fix,
 * with the driver error as `cause`; every other error is returned unchanged.
 *
 * A server that offers no TLS at all: pg stops after its SSLRequest, before the startup message,
 * so no token was sent. Core's mapper is shared with mysql2, knex and TypeORM, so the same server
 * gets the same code and hint whichever adapter met it.
 */
export function explainConnectError(err: unknown, auth: Pick<ConnectionAuth, 'hostname' | 'port'>): unknown {
  return explainNoTls(err, auth)
}
