import { createServer } from 'node:net'

/** A local TCP server that accepts and hangs up at once, counting connection attempts. */
export interface HangupServer {
  port: number
  /** How many connections reached the server so far. */
  connections(): number
  close(): Promise<void>
}

/**
 * Starts a {@link HangupServer} on an ephemeral loopback port. Adapter tests point a config at it to
 * prove that bad input is refused before any network traffic (`connections()` stays 0) and that a
 * network failure, which is not an authentication failure, is attempted exactly once.
 */
export async function startHangupServer(): Promise<HangupServer> {
  let connections = 0
  const server = createServer((socket) => {
    connections += 1
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    port,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
