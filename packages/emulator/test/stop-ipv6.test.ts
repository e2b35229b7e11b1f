import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { startEmulator } from '../src/index.js'
import { eventually } from './fixtures/mysql-env.js'
import { PG_URL, requirePostgres, signToken } from './fixtures/pg-env.js'
import { collectUntilClose, pgPasswordMessage, pgRawUntilPassword } from './fixtures/raw-clients.js'

const pgReachable = await requirePostgres(PG_URL)

/** Whether this machine has an IPv6 loopback; under CI its absence fails the run instead of skipping. */
async function hasIpv6Loopback(): Promise<boolean> {
  const probe = createServer()
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject)
      probe.listen(0, '::1', resolve)
    })
    return true
  } catch (err) {
    const message = `no IPv6 loopback (::1): ${(err as Error).message}`
    if (process.env.CI) throw new Error(message)
    console.warn(`skipping: ${message}`)
    return false
  } finally {
    probe.close()
  }
}
const ipv6 = await hasIpv6Loopback()

/** Resolves to 'refused' or 'accepted': whether a TCP connect to the port still gets through. */
function tryConnect(host: string, port: number): Promise<'refused' | 'accepted'> {
  const s = connect({ host, port })
  return new Promise((resolve) => {
    s.once('connect', () => {
      s.destroy()
      resolve('accepted')
    })
    s.once('error', () => resolve('refused'))
  })
}

/**
 * stop() with clients on the ::1 alias listener. Before the fix the alias was closed first with a
 * plain net.Server.close(), which waits for its sockets: an idle ::1 connection kept stop() pending
 * until the handshake timer, a login held by `latency` was let through, and the 127.0.0.1 listener
 * kept accepting meanwhile. The handshake timeout and latency here are 60 s, far past each test's
 * own timeout, so a stop() that waits for them fails the test.
 */
describe.skipIf(!ipv6 || !pgReachable)('stop() with clients on ::1', () => {
  it('ends an idle ::1 connection at once and accepts nothing once it began', async () => {
    const logs: string[] = []
    const emu = await startEmulator({
      engine: 'postgres',
      upstream: PG_URL,
      handshakeTimeoutMs: 60_000,
      log: (l) => logs.push(l),
    })
    const idle = connect({ host: '::1', port: emu.port })
    idle.on('error', () => {})
    await once(idle, 'connect')
    const closed = collectUntilClose(idle)
    // Wait until the front holds the socket, so stop() has a pending ::1 connection to end.
    await new Promise((resolve) => setImmediate(resolve))
    const stopping = emu.stop()
    const late = await Promise.all([tryConnect('127.0.0.1', emu.port), tryConnect('::1', emu.port)])
    await stopping
    await closed
    expect(late).toEqual(['refused', 'refused'])
    // Ended by stop(), not by the (60 s) handshake timer.
    expect(logs.filter((l) => l.includes('timeout'))).toEqual([])
  }, 20_000)

  it('ends a ::1 login held by the latency fault without letting it through', async () => {
    const logs: string[] = []
    const emu = await startEmulator({ engine: 'postgres', upstream: PG_URL, log: (l) => logs.push(l) })
    emu.faults.latency(60_000)
    const tls = await pgRawUntilPassword(emu, { user: 'waiter6', database: 'test' }, '::1')
    const closed = collectUntilClose(tls)
    tls.write(pgPasswordMessage(await signToken(emu, 'waiter6')))
    await eventually(() => logs.some((l) => l.includes('delayed 60000 ms')), 'the delayed login')
    await emu.stop()
    await closed
    expect(emu.stats().accepted).toBe(0)
    expect(emu.stats().open).toBe(0)
  }, 20_000)
})
