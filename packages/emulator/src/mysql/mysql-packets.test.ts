import { describe, expect, it, vi } from 'vitest'
import {
  Cap,
  decodeAuthSwitchRequest,
  decodeGreeting,
  decodeHandshakeResponse,
  encodeAuthSwitchRequest,
  encodeGreeting,
  encodeHandshakeResponse,
  isSslRequest,
  nativePasswordScramble,
} from './mysql-handshake.js'
import {
  decodeErrPayload,
  encodeErrPayload,
  encodeLenencBytes,
  encodeLenencInt,
  encodeOkPayload,
  encodePacket,
  MysqlProtocolError,
  PacketReader,
  PayloadCursor,
} from './mysql-packets.js'

describe('length-encoded integers', () => {
  // Boundaries of each encoding width: 1, 3, 4 and 9 bytes.
  const cases: [number, number][] = [
    [0, 1],
    [250, 1],
    [251, 3],
    [0xffff, 3],
    [0x10000, 4],
    [0xffffff, 4],
    [0x1000000, 9],
    [Number.MAX_SAFE_INTEGER, 9],
  ]
  for (const [value, width] of cases) {
    it(`round-trips ${value} in ${width} byte(s)`, () => {
      const encoded = encodeLenencInt(value)
      expect(encoded.length).toBe(width)
      const c = new PayloadCursor(encoded)
      expect(c.lenencInt()).toBe(value)
      expect(c.remaining).toBe(0)
    })
  }

  it('rejects 0xfb and 0xff as a length and truncated encodings', () => {
    expect(() => new PayloadCursor(Buffer.from([0xfb])).lenencInt()).toThrow(MysqlProtocolError)
    expect(() => new PayloadCursor(Buffer.from([0xff])).lenencInt()).toThrow(MysqlProtocolError)
    expect(() => new PayloadCursor(Buffer.from([0xfc, 0x01])).lenencInt()).toThrow(/ends inside/)
    expect(() => new PayloadCursor(Buffer.from([0xfe, 1, 2, 3])).lenencInt()).toThrow(/ends inside/)
  })

  it('rejects lengths beyond 2^53', () => {
    const b = Buffer.alloc(9, 0xff)
    b[0] = 0xfe
    expect(() => new PayloadCursor(b).lenencInt()).toThrow(/out of range/)
  })

  it('round-trips a length-encoded string', () => {
    const s = Buffer.from('x'.repeat(300))
    const c = new PayloadCursor(encodeLenencBytes(s))
    expect(c.lenencBytes().equals(s)).toBe(true)
  })
})

describe('packet framing', () => {
  it('frames payload with a 3-byte length and sequence id', () => {
    const p = encodePacket(7, Buffer.from('abc'))
    expect([...p]).toEqual([3, 0, 0, 7, 0x61, 0x62, 0x63])
  })

  it('reassembles packets split across chunks and keeps the remainder', () => {
    const r = new PacketReader(1024)
    const stream = Buffer.concat([
      encodePacket(1, Buffer.from('hello')),
      encodePacket(2, Buffer.alloc(0)),
      Buffer.from([9, 9]),
    ])
    for (const byte of stream) r.push(Buffer.from([byte]))
    expect(r.next()).toEqual({ seq: 1, payload: Buffer.from('hello') })
    expect(r.next()).toEqual({ seq: 2, payload: Buffer.alloc(0) })
    expect(r.next()).toBeNull()
    expect([...r.takeRemainder()]).toEqual([9, 9])
  })

  it('joins a trickled packet once, not on every chunk (README: buffers are kept as chunks)', () => {
    const r = new PacketReader(1 << 20)
    const packet = encodePacket(3, Buffer.alloc(2000, 0x61))
    const concat = vi.spyOn(Buffer, 'concat')
    try {
      for (const byte of packet) {
        r.push(Buffer.from([byte]))
        if (r.pending < packet.length) expect(r.next()).toBeNull()
      }
      expect(r.next()).toEqual({ seq: 3, payload: Buffer.alloc(2000, 0x61) })
      // One join for the 4-byte header, one for the whole packet; before, one per chunk (2003).
      expect(concat.mock.calls.length).toBeLessThanOrEqual(2)
    } finally {
      concat.mockRestore()
    }
    expect(r.pending).toBe(0)
  })

  it('refuses a header announcing more than the cap before the bytes arrive', () => {
    const r = new PacketReader(16)
    r.push(Buffer.from([17, 0, 0, 0]))
    expect(() => r.next()).toThrow(expect.objectContaining({ kind: 'oversized' }))
  })
})

describe('ERR and OK packets', () => {
  it('encodes the exact RDS access-denied ERR', () => {
    const msg = "Access denied for user 'alice'@'127.0.0.1' (using password: YES)"
    const payload = encodeErrPayload(1045, '28000', msg)
    expect(payload.subarray(0, 9).toString('latin1')).toBe('\xff\x15\x04#28000')
    expect(decodeErrPayload(payload)).toEqual({ code: 1045, sqlState: '28000', message: msg })
  })

  it('decodes a pre-4.1 ERR without SQLSTATE', () => {
    expect(decodeErrPayload(Buffer.from([0xff, 0x10, 0x04, 0x41]))).toEqual({ code: 1040, message: 'A' })
  })

  it('rejects a malformed SQLSTATE', () => {
    expect(() => encodeErrPayload(1045, '28', 'x')).toThrow(RangeError)
  })

  it('encodes a minimal OK with the given status flags', () => {
    expect([...encodeOkPayload(0x0002)]).toEqual([0, 0, 0, 2, 0, 0, 0])
  })
})

describe('connection phase packets', () => {
  const scramble = Buffer.from('abcdefghijklmnopqrst')

  it('round-trips a MariaDB-style greeting with extended capabilities', () => {
    const g = {
      serverVersion: '5.5.5-10.11.19-MariaDB',
      connectionId: 42,
      scramble,
      capabilities:
        (Cap.PROTOCOL_41 | Cap.SECURE_CONNECTION | Cap.PLUGIN_AUTH | Cap.SSL | Cap.DEPRECATE_EOF) >>> 0,
      extendedCapabilities: 0x1d,
      charset: 45,
      statusFlags: 2,
      authPluginName: 'mysql_native_password',
    }
    expect(decodeGreeting(encodeGreeting(g))).toEqual(g)
  })

  it('drops extended capabilities when CLIENT_MYSQL is set (a MySQL server)', () => {
    const caps = (Cap.LONG_PASSWORD | Cap.PROTOCOL_41 | Cap.SECURE_CONNECTION | Cap.PLUGIN_AUTH) >>> 0
    const g = decodeGreeting(
      encodeGreeting({
        serverVersion: '8.0.36',
        connectionId: 1,
        scramble,
        capabilities: caps,
        extendedCapabilities: 0xff,
        charset: 255,
        statusFlags: 2,
        authPluginName: 'caching_sha2_password',
      }),
    )
    expect(g.extendedCapabilities).toBe(0)
    expect(g.authPluginName).toBe('caching_sha2_password')
  })

  it('round-trips a HandshakeResponse41 with db, plugin, attributes and MariaDB flags', () => {
    const r = {
      capabilities:
        (Cap.PROTOCOL_41 |
          Cap.SECURE_CONNECTION |
          Cap.PLUGIN_AUTH |
          Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA |
          Cap.CONNECT_WITH_DB |
          Cap.CONNECT_ATTRS) >>>
        0,
      extendedCapabilities: 0x8,
      maxPacketSize: 0x1000000,
      charset: 224,
      user: 'iam_user',
      authResponse: Buffer.alloc(20, 7),
      database: 'app',
      authPluginName: 'mysql_native_password',
      connectAttrs: Buffer.from([3, 0x61, 0x62, 0x63, 1, 0x78]),
    }
    expect(decodeHandshakeResponse(encodeHandshakeResponse(r))).toEqual(r)
  })

  it('tells an SSLRequest from a full response', () => {
    const head = encodeHandshakeResponse({
      capabilities: (Cap.PROTOCOL_41 | Cap.SSL) >>> 0,
      extendedCapabilities: 0,
      maxPacketSize: 1,
      charset: 33,
      user: 'u',
      authResponse: Buffer.alloc(0),
    })
    expect(isSslRequest(head.subarray(0, 32))).toBe(true)
    expect(isSslRequest(head)).toBe(false)
    expect(isSslRequest(Buffer.alloc(32))).toBe(false)
  })

  it('rejects truncated handshake responses at every length', () => {
    const full = encodeHandshakeResponse({
      capabilities: (Cap.PROTOCOL_41 | Cap.SECURE_CONNECTION | Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA) >>> 0,
      extendedCapabilities: 0,
      maxPacketSize: 1,
      charset: 33,
      user: 'someone',
      authResponse: Buffer.alloc(20, 1),
    })
    for (let n = 0; n < full.length; n++) {
      expect(() => decodeHandshakeResponse(full.subarray(0, n)), `length ${n}`).toThrow(MysqlProtocolError)
    }
  })

  it('round-trips an AuthSwitchRequest and strips the scramble NUL', () => {
    const sw = decodeAuthSwitchRequest(
      encodeAuthSwitchRequest('mysql_native_password', Buffer.concat([scramble, Buffer.of(0)])),
    )
    expect(sw).toEqual({ pluginName: 'mysql_native_password', data: scramble })
  })

  it('computes mysql_native_password so that the server-side check holds', async () => {
    // The server stores SHA1(SHA1(pw)) and checks SHA1(reply XOR SHA1(scramble + stored)) === stored.
    const { createHash } = await import('node:crypto')
    const sha1 = (b: Buffer) => createHash('sha1').update(b).digest()
    const stored = sha1(sha1(Buffer.from('s3cret')))
    const reply = nativePasswordScramble('s3cret', scramble)
    const mask = createHash('sha1').update(scramble).update(stored).digest()
    const stage1 = Buffer.from(reply.map((b, i) => b ^ (mask[i] as number)))
    expect(sha1(stage1).equals(stored)).toBe(true)
    expect(nativePasswordScramble('', scramble).length).toBe(0)
  })
})
