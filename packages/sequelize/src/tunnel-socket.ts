import { Socket } from 'node:net'

/** What mysql2 hands a `stream` factory: `{ config }` of the connection being built. */
interface StreamFactoryArgs {
  config?: { enableKeepAlive?: boolean; keepAliveInitialDelay?: number }
}

/**
 * A mysql2 `stream` factory that connects to the tunnel end (the host and port Sequelize was
 * given) while mysql2's `host` names the RDS endpoint for the certificate check. It connects at
 * once: Sequelize ran the `beforeConnect` hook before its dialect's `connect`, so this
 * connection's limiter permit and token were taken before the socket exists (@rds-iam/mysql2's
 * own socket factory would wait for a second permit). Same `noDelay` and keep-alive as mysql2's
 * own socket.
 *
 * @example
 * ```ts
 * const dialectOptions = { host: 'db.abc.eu-west-1.rds.amazonaws.com', stream: tunnelSocket('127.0.0.1', 13306) }
 * ```
 */
export function tunnelSocket(host: string, port: number): (args?: StreamFactoryArgs) => Socket {
  return (args) => {
    const config = args?.config ?? {}
    const socket = new Socket()
    socket.once('connect', () => {
      socket.setNoDelay(true)
      if (config.enableKeepAlive) socket.setKeepAlive(true, config.keepAliveInitialDelay)
    })
    return socket.connect(port, host)
  }
}
