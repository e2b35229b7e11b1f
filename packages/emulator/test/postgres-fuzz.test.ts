import { connect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../src/index.js'
import { connectIam, PG_URL, requirePostgres } from './fixtures/pg-env.js'

const pgReachable = await requirePostgres(PG_URL)

/** Deterministic PRNG (mulberry32) so a failing run can be replayed from its printed seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function int32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4)
  for (const [i, v] of values.entries()) b.writeInt32BE(v, i * 4)
  return b
}

function startup(params: Record<string, string>): Buffer {
  const body = Buffer.concat([
    int32(196608),
    ...Object.entries(params).flatMap(([k, v]) => [Buffer.from(`${k}\0${v}\0`)]),
    Buffer.from([0]),
  ])
  return Buffer.concat([int32(body.length + 4), body])
}

const SSL_REQUEST = int32(8, 80877103)
const GSSENC_REQUEST = int32(8, 80877104)

/** Resolves when the socket is closed; destroys it first if the server keeps it longer than `ms`. */
function closed(socket: Socket, ms = 3_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.destroy(), ms)
    socket.on('error', () => {})
    // A client must read to see the server's FIN; every real client does.
    socket.resume()
    socket.on('close', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

function firstByte(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    socket.once('data', (d: Buffer) => {
      socket.pause()
      resolve(d.subarray(0, 1).toString('latin1'))
    })
    socket.once('close', () => resolve(''))
    socket.resume()
  })
}

describe.skipIf(!pgReachable)('postgres front survives garbage (fuzz)', () => {
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'postgres', upstream: PG_URL, handshakeTimeoutMs: 400 })
  })
  afterAll(async () => {
    await emu?.stop()
  })

  it('answers GSSENCRequest with N and stays usable for TLS afterwards', async () => {
    const socket = connect({ host: '127.0.0.1', port: emu.port })
    await new Promise((resolve) => socket.once('connect', resolve))
    const reply = firstByte(socket)
    socket.write(GSSENC_REQUEST)
    expect(await reply).toBe('N')
    const ssl = firstByte(socket)
    socket.write(SSL_REQUEST)
    expect(await ssl).toBe('S')
    socket.destroy()
  })

  it('random, truncated and oversized packets: no crash, no login, still serving', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000)
    const rand = prng(seed)
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)))
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!
    const validStartup = startup({ user: 'app_user', database: 'test', application_name: 'fuzz' })

    const plainCases: (() => Buffer)[] = [
      () => bytes(1 + Math.floor(rand() * 200)),
      () => Buffer.concat([int32(8 + Math.floor(rand() * 300)), bytes(Math.floor(rand() * 300))]),
      () => Buffer.concat([int32(0x7fffffff), bytes(16)]),
      () => Buffer.concat([int32(20_000), int32(196608), bytes(64)]),
      () => validStartup.subarray(0, Math.floor(rand() * validStartup.length)),
      () => Buffer.concat([SSL_REQUEST, bytes(1 + Math.floor(rand() * 50))]),
      () => Buffer.concat([int32(16, 80877102), bytes(8)]),
      () => Buffer.concat([int32(8 + 4), int32(1234 << 16), bytes(4)]),
    ]
    const tlsCases: (() => Buffer)[] = [
      () => bytes(1 + Math.floor(rand() * 200)),
      () => validStartup.subarray(0, Math.floor(rand() * validStartup.length)),
      () => Buffer.concat([validStartup, Buffer.from('p'), int32(50_000), bytes(32)]),
      () => Buffer.concat([validStartup, Buffer.from('Q'), int32(9), Buffer.from('sel\0\0')]),
      () => Buffer.concat([validStartup, Buffer.from('p'), int32(4 + 10), bytes(10)]),
      () => Buffer.concat([startup({ database: 'test' }), bytes(8)]),
      () => Buffer.concat([validStartup, SSL_REQUEST]),
    ]

    async function plainCase(): Promise<void> {
      const socket = connect({ host: '127.0.0.1', port: emu.port })
      const done = closed(socket)
      socket.once('connect', () => {
        socket.write(pick(plainCases)())
        if (rand() < 0.5) socket.end()
      })
      await done
    }

    async function tlsCase(): Promise<void> {
      const raw = connect({ host: '127.0.0.1', port: emu.port })
      const rawDone = closed(raw)
      await new Promise((resolve) => raw.once('connect', resolve))
      const answer = firstByte(raw)
      raw.write(SSL_REQUEST)
      if ((await answer) !== 'S') return void raw.destroy()
      if (rand() < 0.3) {
        // Garbage where the TLS ClientHello belongs.
        raw.write(bytes(1 + Math.floor(rand() * 100)))
        return rawDone
      }
      const tls = tlsConnect({ socket: raw, ca: emu.ca, servername: 'localhost' })
      const done = closed(tls)
      tls.once('secureConnect', () => {
        tls.write(pick(tlsCases)())
        if (rand() < 0.5) tls.end()
      })
      await done
    }

    const before = emu.stats()
    const deadline = Date.now() + 3_000
    let iterations = 0
    while (Date.now() < deadline && iterations < 400) {
      await Promise.all(Array.from({ length: 8 }, () => (rand() < 0.6 ? plainCase() : tlsCase())))
      iterations += 8
    }
    const after = emu.stats()
    console.info(
      `fuzz seed ${seed}: ${iterations} connections, ${after.protocolErrors - before.protocolErrors} protocol errors`,
    )
    expect(iterations, `seed ${seed}`).toBeGreaterThan(0)
    expect(after.accepted, `seed ${seed}`).toBe(before.accepted)
    expect(after.protocolErrors, `seed ${seed}`).toBeGreaterThan(before.protocolErrors)

    const client = await connectIam(emu, 'app_user')
    expect((await client.query('select 6 as six')).rows).toEqual([{ six: 6 }])
    await client.end()
    expect(emu.stats().accepted).toBe(after.accepted + 1)
  }, 30_000)
})
