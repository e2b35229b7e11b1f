import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import mysql from 'mysql2/promise'
import { afterEach, describe, expect, it } from 'vitest'
import { Cap, encodeHandshakeResponse } from '../src/mysql/mysql-handshake.js'
import { encodePacket } from '../src/mysql/mysql-packets.js'
import { iamOptions, type MysqlEmulator, requireMysql, startMysqlEmulator } from './fixtures/mysql-env.js'

const available = await requireMysql()

/** Small seeded PRNG so a failing run can be replayed with RDS_IAM_FUZZ_SEED. */
function mulberry32(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const CAPS = (Cap.PROTOCOL_41 | Cap.SECURE_CONNECTION | Cap.PLUGIN_AUTH | Cap.LONG_PASSWORD) >>> 0

function handshakeResponse(user: string, extraCaps = 0): Buffer {
  return encodeHandshakeResponse({
    capabilities: (CAPS | extraCaps) >>> 0,
    extendedCapabilities: 0,
    maxPacketSize: 1 << 24,
    charset: 45,
    user,
    authResponse: Buffer.alloc(20, 3),
    authPluginName: 'mysql_native_password',
  })
}

/** Resolves when the peer closes, or after `ms`; never rejects. */
function closedOrAfter(socket: Socket, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve()
    const t = setTimeout(resolve, ms)
    socket.once('close', () => {
      clearTimeout(t)
      resolve()
    })
  })
}

/** Opens a raw connection and waits for the greeting (or the close). */
async function rawConnection(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1')
  s.on('error', () => {})
  await Promise.race([once(s, 'data'), closedOrAfter(s, 2_000)])
  return s
}

describe.skipIf(!available)('mysql front: hostile input', () => {
  let emu: MysqlEmulator | undefined
  afterEach(async () => {
    await emu?.stop()
    emu = undefined
  })

  it('survives random, truncated, oversized and out-of-order packets, accepts none, then serves a client', async () => {
    const kinds = new Map<string, number>()
    const e = await startMysqlEmulator({
      log: (line) => {
        kinds.set(line, (kinds.get(line) ?? 0) + 1)
      },
    })
    emu = e
    const seed = Number(process.env.RDS_IAM_FUZZ_SEED ?? Date.now() % 1_000_000)
    const rand = mulberry32(seed)
    const int = (n: number) => Math.floor(rand() * n)
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)))
    const sslRequest = encodePacket(1, handshakeResponse('', Cap.SSL).subarray(0, 32))

    const scenarios: ((s: Socket) => Promise<void>)[] = [
      async (s) => void s.write(bytes(1 + int(200))),
      async (s) => void s.write(encodePacket(1, bytes(int(120)))),
      async (s) => void s.write(Buffer.concat([Buffer.from([0xf0, 0xff, 0xff, 1]), bytes(64)])), // ~16 MB announced
      async (s) => {
        const full = encodePacket(1, handshakeResponse('fuzz'))
        s.end(full.subarray(0, 1 + int(full.length - 1))) // truncated, then gone
      },
      async (s) => {
        const p = handshakeResponse('fuzz')
        for (let i = 0; i < 1 + int(6); i++) p[int(p.length)] = int(256) // mutated, no TLS
        s.write(encodePacket(int(3), p))
      },
      async (s) => void s.write(Buffer.concat([sslRequest, bytes(1 + int(300))])), // not a ClientHello
      async (s) => {
        s.write(sslRequest)
        const t = tlsConnect({ socket: s, ca: e.ca, servername: 'localhost' })
        t.on('error', () => {})
        await Promise.race([once(t, 'secureConnect'), closedOrAfter(s, 1_000)])
        // Garbage, or a real login whose auth-switch answer is garbage instead of a token.
        if (rand() < 0.5) t.write(encodePacket(2, bytes(int(100))))
        else {
          t.write(encodePacket(2, handshakeResponse(`fuzz${int(9)}`)))
          await new Promise((r) => setTimeout(r, 20))
          t.write(encodePacket(4, bytes(1 + int(600))))
        }
        await closedOrAfter(s, 500)
        t.destroy()
      },
      async (s) => void s.destroy(), // gone mid-handshake
    ]

    const deadline = Date.now() + 3_000
    let iterations = 0
    const worker = async () => {
      while (Date.now() < deadline && iterations < 400) {
        const n = iterations++
        const s = await rawConnection(e.port)
        await scenarios[n < scenarios.length ? n : int(scenarios.length)]?.(s)
        await closedOrAfter(s, 300)
        s.destroy()
      }
    }
    await Promise.all([worker(), worker(), worker(), worker()])

    const stats = e.stats()
    // "internal" would mean an unexpected exception in the front rather than a handled refusal.
    expect(
      [...kinds.keys()].filter((l) => /internal/.test(l)),
      `seed ${seed}`,
    ).toEqual([])
    // Every scenario ran at least once (the first rounds go through them in order).
    for (const kind of ['oversized', 'tls', 'no-tls', 'disconnect']) {
      expect(kinds.get(`protocol error: ${kind}`), `${kind}, seed ${seed}`).toBeGreaterThan(0)
    }
    expect(stats.accepted, `seed ${seed}`).toBe(0)
    expect(stats.protocolErrors, `seed ${seed}`).toBeGreaterThan(0)
    expect(iterations).toBeGreaterThan(0)

    const conn = await mysql.createConnection(iamOptions(e, 'after_fuzz'))
    const [rows] = await conn.query('select 1 as ok')
    await conn.end()
    expect(rows).toEqual([{ ok: 1 }])
    expect(e.stats().accepted).toBe(1)
  }, 30_000)
})
