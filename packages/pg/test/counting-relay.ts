import { connect, createServer, type Socket } from 'node:net'

/** A loopback TCP relay to `port` that counts the connections made through it. */
export interface CountingRelay {
  port: number
  /** Connections that reached the relay so far. */
  connections(): number
  /** Every byte the clients sent through the relay so far, in arrival order. */
  sent(): Buffer
  close(): Promise<void>
}

/**
 * Starts a {@link CountingRelay}. Tests put it between a driver and the emulator to prove that
 * a caller failed before any socket was opened (`connections()` stays 0), or what reached the
 * server (`sent()`).
 */
export async function startCountingRelay(port: number, host = '127.0.0.1'): Promise<CountingRelay> {
  let connections = 0
  const chunks: Buffer[] = []
  const open = new Set<Socket>()
  const server = createServer((client) => {
    connections += 1
    const upstream = connect(port, host)
    for (const s of [client, upstream]) {
      open.add(s)
      s.on('error', () => {})
      s.on('close', () => {
        open.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
    client.on('data', (chunk: Buffer) => chunks.push(chunk))
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port: relayPort } = server.address() as { port: number }
  return {
    port: relayPort,
    connections: () => connections,
    sent: () => Buffer.concat(chunks),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy()
        server.close(() => resolve())
      }),
  }
}
