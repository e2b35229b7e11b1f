import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { throttleNewConnection } from '@rds-iam/core'
import { selectedEngines } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { withIam } from '../src/index.js'
import { clientFor, type EngineFixture, startEngine } from './engine-fixture.js'
import { loadKnexVersion } from './knex-harness.js'

// iam.maxNewConnectionsPerSecond must hold a new connection back BEFORE its socket opens: a
// permit taken inside the handshake (pg's password function) lets every socket open at once and
// leaves the logins waiting half-open at the server. A TCP proxy in front of the emulator sees
// each socket the driver opens; the limiter's bucket counts the permits it has granted. When the
// k-th socket opens, k permits must have been granted, and each connection costs one permit.

const RATE = 2
const CONCURRENT = 8

type Bucket = { take(): Promise<void> }
const limiterBucket = (endpoint: string): Bucket | undefined =>
  (globalThis as unknown as Record<symbol, { buckets: Map<string, Bucket> } | undefined>)[
    Symbol.for('rds-iam.core.v1')
  ]?.buckets.get(endpoint)

/** Counts the permits the limiter hands out for `endpoint` from now on. */
async function countPermits(endpoint: string): Promise<{ taken: number; granted: number }> {
  // The bucket is created by its first use; this test's own permit is not counted.
  await throttleNewConnection(endpoint, RATE)
  const bucket = limiterBucket(endpoint)
  if (!bucket) throw new Error(`no limiter bucket for ${endpoint}`)
  const counts = { taken: 0, granted: 0 }
  const take = bucket.take.bind(bucket)
  bucket.take = () => {
    counts.taken++
    return take().then(() => {
      counts.granted++
    })
  }
  return counts
}

/** A TCP relay to `port` that records, for each socket it accepts, what `observe()` says then. */
async function countingProxy<T>(
  port: number,
  observe: () => T,
): Promise<{ port: number; opened: T[]; close(): Promise<void> }> {
  const opened: T[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    opened.push(observe())
    const upstream = tcpConnect(port, '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => {
        sockets.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    opened,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

for (const engine of selectedEngines(['postgres', 'mysql'])) {
  describe(`knex on ${engine}: the connection-rate limiter holds back the socket`, () => {
    let fx: EngineFixture
    beforeAll(async () => {
      fx = await startEngine(engine)
    })
    afterAll(async () => {
      await fx?.close()
    })

    test(`${CONCURRENT} concurrent acquisitions at ${RATE}/s: every socket opens after its own permit`, async () => {
      const signingHostname = new URL(`tcp://${fx.emu.endpoint}`).hostname
      const permits = await countPermits(`${signingHostname}:${fx.emu.port}`)
      const proxy = await countingProxy(fx.emu.port, () => permits.granted)
      const base = fx.connection()
      const knex = loadKnexVersion('knex')
      const db = knex(
        withIam(
          {
            client: clientFor(engine),
            connection: {
              ...base,
              // Through the proxy, as through a tunnel: tokens and the limiter stay the emulator's.
              host: '127.0.0.1',
              port: proxy.port,
              iam: {
                ...(base.iam as object),
                signingHostname,
                signingPort: fx.emu.port,
                maxNewConnectionsPerSecond: RATE,
              },
            },
            pool: { min: 0, max: CONCURRENT },
          },
          { knex },
        ),
      )
      const acceptedBefore = fx.emu.stats().accepted
      try {
        const conns = await Promise.all(
          Array.from({ length: CONCURRENT }, () => db.client.acquireConnection() as Promise<unknown>),
        )
        for (const conn of conns) await db.client.releaseConnection(conn)

        const early = proxy.opened
          .map((granted, i) => ({ socket: i + 1, permitsGranted: granted }))
          .filter((o) => o.permitsGranted < o.socket)
        expect(early).toEqual([])
        expect(proxy.opened).toHaveLength(CONCURRENT)
        // One permit per physical connection: the dialect's and the driver's hooks share it.
        expect(permits.taken).toBe(CONCURRENT)
        expect(fx.emu.stats().accepted - acceptedBefore).toBe(CONCURRENT)
      } finally {
        await db.destroy()
        await proxy.close()
      }
    })
  })
}
