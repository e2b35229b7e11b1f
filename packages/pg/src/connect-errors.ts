import { type ConnectionAuth, RdsIamError } from '@rds-iam/core'

// pg's own words when the server answers an SSLRequest with 'N' (lib/connection.js, pg 8.x).
const NO_TLS_OFFERED = 'The server does not support SSL connections'

/**
 * Turns a driver error that has one known cause into a typed {@link RdsIamError} naming the fix,
 * with the driver error as `cause`; every other error is returned unchanged.
 *
 * A server that offers no TLS at all: pg stops after its SSLRequest, before the startup message,
 * so no token was sent. An RDS/Aurora endpoint and RDS Proxy always offer TLS, so this is another
 * server (a wrong host/port, a local PostgreSQL) or something in between that strips it.
 */
export function explainConnectError(err: unknown, auth: Pick<ConnectionAuth, 'hostname' | 'port'>): unknown {
  if (err instanceof Error && !(err instanceof RdsIamError) && err.message === NO_TLS_OFFERED) {
    return new RdsIamError(
      'RDS_IAM_INSECURE_TRANSPORT',
      `${auth.hostname}:${auth.port} does not offer TLS, so the IAM token was not sent`,
      'RDS/Aurora endpoints and RDS Proxy always offer TLS: check that host/port name the RDS endpoint and that no proxy or tunnel in between terminates TLS. For local tests against a PostgreSQL without TLS, set `ssl: false` with `iam: { insecure: true }`',
      { cause: err },
    )
  }
  return err
}
