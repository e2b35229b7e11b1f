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
  /** The name Node must check the certificate against when mysql2 names none (see {@link tlsNameForNode}). */
  tlsName?: string
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
  const { host, port, auth, handoff, tlsName } = options
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
      // After connect(): for a host name net sets `_host` to the connect host (a tunnel end).
      if (tlsName !== undefined) tlsNameForNode(socket, tlsName)
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

/**
 * mysql2 ≥ 3.15.3 gives `tls.connect` no `servername` when its `host` is an IP, and Node then
 * checks the certificate against `socket._host` (what net records for a host-name connect, null
 * after an IP connect), else 'localhost'. Setting it to the IP makes Node check the certificate's
 * IP addresses, as it does when mysql2 names the server. That matters beyond the first check:
 * mysql2 ≥ 3.24 caches TLS sessions of handshakes Node accepted and resumes them without any
 * certificate, so what Node accepts is what a later connection trusts. Sockets are tagged again
 * on 'connect', in case a stream of the user's connects to a host name after it was handed over.
 */
export function tlsNameForNode(stream: unknown, name: string): void {
  if (stream === null || typeof stream !== 'object') return
  const target = stream as { _host?: unknown; once?: (event: string, listener: () => void) => unknown }
  target._host = name
  if (typeof target.once === 'function') {
    target.once('connect', () => {
      target._host = name
    })
  }
}

/** Settles when a socket from {@link preparedSocketFactory} starts connecting (or gave up); else undefined. */
export function socketPreparing(stream: unknown): Promise<void> | undefined {
  return stream && typeof stream === 'object'
    ? (stream as { [PREPARING]?: Promise<void> })[PREPARING]
    : undefined
}
