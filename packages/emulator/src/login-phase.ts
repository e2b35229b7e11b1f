import { createServer, type Server, type Socket } from 'node:net'
import type { AuthGate } from './internal-types.js'

/** How long a refused client may take to read its error before the socket is destroyed. */
const REFUSAL_LINGER_MS = 1_000

/**
 * One client connection from accept until it is relayed or refused: the handshake timer, the
 * counted protocol error, the final error frame. Both wire fronts drive their protocol through it.
 */
export interface LoginPhase {
  /** True once the phase ended (relayed, refused, aborted or cancelled). */
  readonly settled: boolean
  /** The login succeeded or the connection served its purpose: stop the timer, hand it over. */
  finish(): void
  /** Counts a protocol error (`kind (detail)` in the log) and destroys the connection. */
  abort(kind: string, detail?: string): void
  /** Sends the final error frame on `stream`, then closes it; destroyed if the client never reads it. */
  refuse(stream: Socket, frame: Buffer): void
  /** The client sent its credentials: what follows (authorization, upstream login) has its own clocks. */
  stopHandshakeTimer(): void
  /** The TLS socket layered on the connection, so that `abort` destroys it too. */
  useTls(tls: Socket): void
}

export interface FrontServerOptions {
  gate: AuthGate
  handshakeTimeoutMs: number
  /** Detail logged with a handshake timeout (none: the kind alone). */
  timeoutDetail?: string
  /** Runs when the server closes, before connections still logging in are destroyed. */
  onClose?: () => void
}

/**
 * A TCP server whose connections each get a {@link LoginPhase}. `close()` also destroys the
 * connections still in their login phase (or lingering after a refusal): relayed ones belong to
 * the gate, which `stop()` drops first, and a plain `close()` would wait for all of them.
 */
export function createFrontServer(
  options: FrontServerOptions,
  serve: (socket: Socket, phase: LoginPhase) => void,
): Server {
  const { gate, handshakeTimeoutMs, timeoutDetail } = options
  /** Connections still logging in (or lingering after a refusal) → how to end them, TLS layer included. */
  const pending = new Map<Socket, () => void>()

  const server = createServer((socket) => {
    // Errors surface as 'close' and failed reads; an unhandled 'error' event would crash the process.
    socket.on('error', () => {})
    socket.on('close', () => pending.delete(socket))
    socket.setNoDelay(true)

    let settled = false
    let tls: Socket | undefined
    const finish = (): void => {
      settled = true
      clearTimeout(timer)
    }
    const phase: LoginPhase = {
      get settled() {
        return settled
      },
      finish() {
        finish()
        pending.delete(socket)
      },
      abort(kind, detail) {
        if (settled) return
        finish()
        gate.protocolError(detail === undefined ? kind : `${kind} (${detail})`)
        tls?.destroy()
        socket.destroy()
      },
      refuse(stream, frame) {
        finish()
        stream.end(frame)
        setTimeout(() => stream.destroy(), REFUSAL_LINGER_MS).unref()
      },
      stopHandshakeTimer() {
        clearTimeout(timer)
      },
      useTls(socketTls) {
        tls = socketTls
      },
    }
    // The TLS layer too: a front checks `stream.destroyed` on it after each await, and a TLS
    // socket learns only later that the TCP socket beneath it was destroyed.
    pending.set(socket, () => {
      tls?.destroy()
      socket.destroy()
    })
    const timer = setTimeout(() => phase.abort('timeout', timeoutDetail), handshakeTimeoutMs)
    serve(socket, phase)
  })

  const close = server.close.bind(server)
  server.close = (callback?: (err?: Error) => void) => {
    options.onClose?.()
    for (const destroy of pending.values()) destroy()
    return close(callback)
  }
  return server
}
