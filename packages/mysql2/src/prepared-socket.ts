import { Socket } from 'node:net'
import type { ConnectionAuth } from '@rds-iam/core'
import { rememberError } from './error-recovery.js'

/** What mysql2 hands a `stream` factory: `{ config }` of the connection being built. */
interface StreamFactoryArgs {
  config?: { enableKeepAlive?: boolean; keepAliveInitialDelay?: number }
}

/** Lets a caller that already ran `auth.prepare()` tell the next socket to connect at once. */
export interface PreparedHandoff {
  /** True while the caller that prepared is inside mysql2's (synchronous) connection construction. */
  ready: boolean
}

export interface PreparedSocketOptions {
  /** Where the TCP connection goes (the tunnel end, e.g. 127.0.0.1, or the RDS endpoint). */
  host: string
  port: number
  auth: ConnectionAuth
  handoff: PreparedHandoff
}

const PREPARING = Symbol('rds-iam preparing')

/**
 * A mysql2 `stream` factory. Its socket connects only once `auth.prepare()` has settled (unless
 * the caller already prepared, see {@link PreparedHandoff}): the limiter permit is taken and the
 * token is in the cache before the server sees the connection, so a hung or failing credential
 * source fails the caller with `RDS_IAM_CREDENTIALS` and no server holds a half-open login.
 * mysql2 would otherwise open the socket itself (same `noDelay` and keep-alive settings as here).
 */
export function preparedSocketFactory(options: PreparedSocketOptions): (args?: StreamFactoryArgs) => Socket {
  const { host, port, auth, handoff } = options
  return (args) => {
    const socket = new Socket()
    const config = args?.config ?? {}
    const connect = () => {
      // mysql2 may have ended or destroyed the connection meanwhile; connect() would revive it.
      if (socket.destroyed || socket.writableEnded) {
        socket.destroy()
        return
      }
      socket.once('connect', () => {
        socket.setNoDelay(true)
        if (config.enableKeepAlive) socket.setKeepAlive(true, config.keepAliveInitialDelay)
      })
      socket.connect(port, host)
    }
    if (handoff.ready) {
      handoff.ready = false
      connect()
      return socket
    }
    const preparing = auth.prepare().then(connect, (err: unknown) => {
      if (!socket.destroyed) socket.destroy(rememberError(err as Error))
    })
    Object.defineProperty(socket, PREPARING, { value: preparing })
    return socket
  }
}

/** Settles when a socket from {@link preparedSocketFactory} starts connecting (or gave up); else undefined. */
export function socketPreparing(stream: unknown): Promise<void> | undefined {
  return stream && typeof stream === 'object'
    ? (stream as { [PREPARING]?: Promise<void> })[PREPARING]
    : undefined
}
