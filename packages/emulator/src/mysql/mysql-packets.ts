/**
 * MySQL client/server protocol primitives: packet framing, length-encoded integers and
 * strings, and the OK / ERR packets. Everything here is pure so it can be unit tested and
 * fuzzed without sockets.
 */

import { ChunkQueue } from '../chunk-queue.js'

/** Largest payload one wire packet carries; a payload of exactly this size continues in the next packet. */
export const MAX_PACKET_PAYLOAD = 0xffffff

/** A malformed, truncated or oversized packet; the front closes the connection on it. */
export class MysqlProtocolError extends Error {
  override readonly name = 'MysqlProtocolError'
  /** Short category used for the emulator's protocol error counter (e.g. `truncated`, `oversized`). */
  readonly kind: string

  constructor(kind: string, message: string) {
    super(message)
    this.kind = kind
  }
}

/** One framed packet: the sequence id and its payload. */
export interface MysqlPacket {
  seq: number
  payload: Buffer
}

/** Frames `payload` with its 3-byte length and sequence id (single packet; callers keep payloads small). */
export function encodePacket(seq: number, payload: Buffer): Buffer {
  if (payload.length >= MAX_PACKET_PAYLOAD) {
    throw new MysqlProtocolError('oversized', `payload of ${payload.length} bytes needs multi-packet framing`)
  }
  const header = Buffer.alloc(4)
  header.writeUIntLE(payload.length, 0, 3)
  header[3] = seq & 0xff
  return Buffer.concat([header, payload])
}

/**
 * Accumulates bytes from a socket and yields whole packets. Before authentication a peer has
 * no business sending large packets, so `maxPayload` bounds memory against garbage input.
 * Chunks are joined once per packet, when it is complete (see {@link ChunkQueue}).
 */
export class PacketReader {
  readonly #bytes = new ChunkQueue()

  constructor(private readonly maxPayload: number) {}

  push(chunk: Buffer): void {
    this.#bytes.push(chunk)
  }

  /** The next complete packet, or `null` until more bytes arrive; throws on an oversized header. */
  next(): MysqlPacket | null {
    if (this.#bytes.length < 4) return null
    const length = this.#bytes.head(4).readUIntLE(0, 3)
    if (length > this.maxPayload) {
      throw new MysqlProtocolError(
        'oversized',
        `packet of ${length} bytes exceeds the ${this.maxPayload}-byte limit`,
      )
    }
    if (this.#bytes.length < 4 + length) return null
    const packet = this.#bytes.take(4 + length)
    return { seq: packet[3] as number, payload: packet.subarray(4) }
  }

  /** Bytes held that do not yet form a whole packet (at most one packet's worth). */
  get pending(): number {
    return this.#bytes.length
  }

  /** Bytes received after the last whole packet (e.g. a TLS ClientHello that followed an SSLRequest). */
  takeRemainder(): Buffer {
    return this.#bytes.drain()
  }
}

/** Bounds-checked reader over one payload; every read past the end throws `MysqlProtocolError('truncated')`. */
export class PayloadCursor {
  offset = 0

  constructor(readonly payload: Buffer) {}

  get remaining(): number {
    return this.payload.length - this.offset
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.offset + n > this.payload.length) {
      throw new MysqlProtocolError('truncated', `packet ends inside ${what}`)
    }
  }

  u8(what = 'a byte'): number {
    this.need(1, what)
    return this.payload[this.offset++] as number
  }

  u16(what = 'a 2-byte integer'): number {
    this.need(2, what)
    const v = this.payload.readUInt16LE(this.offset)
    this.offset += 2
    return v
  }

  u32(what = 'a 4-byte integer'): number {
    this.need(4, what)
    const v = this.payload.readUInt32LE(this.offset)
    this.offset += 4
    return v
  }

  bytes(n: number, what = 'a byte string'): Buffer {
    this.need(n, what)
    const v = this.payload.subarray(this.offset, this.offset + n)
    this.offset += n
    return v
  }

  skip(n: number, what = 'filler'): void {
    this.need(n, what)
    this.offset += n
  }

  /** Length-encoded integer; values above 2^53 cannot be a length here and are rejected. */
  lenencInt(what = 'a length-encoded integer'): number {
    const first = this.u8(what)
    if (first < 0xfb) return first
    if (first === 0xfc) return this.u16(what)
    if (first === 0xfd) {
      this.need(3, what)
      const v = this.payload.readUIntLE(this.offset, 3)
      this.offset += 3
      return v
    }
    if (first === 0xfe) {
      this.need(8, what)
      const v = this.payload.readBigUInt64LE(this.offset)
      this.offset += 8
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new MysqlProtocolError('malformed', `${what} is out of range`)
      }
      return Number(v)
    }
    throw new MysqlProtocolError('malformed', `${what} starts with invalid byte 0x${first.toString(16)}`)
  }

  lenencBytes(what = 'a length-encoded string'): Buffer {
    return this.bytes(this.lenencInt(what), what)
  }

  /** NUL-terminated string; `orEnd` accepts a missing NUL at the end of the payload (some clients omit it). */
  nulBytes(what = 'a NUL-terminated string', orEnd = false): Buffer {
    const end = this.payload.indexOf(0, this.offset)
    if (end === -1) {
      if (!orEnd) throw new MysqlProtocolError('truncated', `${what} has no terminating NUL`)
      return this.bytes(this.remaining, what)
    }
    const v = this.payload.subarray(this.offset, end)
    this.offset = end + 1
    return v
  }

  rest(): Buffer {
    return this.bytes(this.remaining)
  }
}

/** Length-encoded integer as bytes. */
export function encodeLenencInt(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`invalid length ${value}`)
  if (value < 0xfb) return Buffer.from([value])
  if (value <= 0xffff) {
    const b = Buffer.alloc(3)
    b[0] = 0xfc
    b.writeUInt16LE(value, 1)
    return b
  }
  if (value <= 0xffffff) {
    const b = Buffer.alloc(4)
    b[0] = 0xfd
    b.writeUIntLE(value, 1, 3)
    return b
  }
  const b = Buffer.alloc(9)
  b[0] = 0xfe
  b.writeBigUInt64LE(BigInt(value), 1)
  return b
}

/** Length-encoded string as bytes. */
export function encodeLenencBytes(value: Buffer): Buffer {
  return Buffer.concat([encodeLenencInt(value.length), value])
}

/** NUL-terminated string as bytes. */
export function encodeNulString(value: string | Buffer): Buffer {
  const b = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
  return Buffer.concat([b, Buffer.from([0])])
}

/** ERR packet payload (protocol 4.1 form with SQLSTATE marker). */
export function encodeErrPayload(code: number, sqlState: string, message: string): Buffer {
  if (!/^[0-9A-Z]{5}$/.test(sqlState)) throw new RangeError(`invalid SQLSTATE ${sqlState}`)
  const head = Buffer.alloc(3)
  head[0] = 0xff
  head.writeUInt16LE(code, 1)
  return Buffer.concat([head, Buffer.from(`#${sqlState}`, 'latin1'), Buffer.from(message, 'utf8')])
}

/** A decoded ERR packet. */
export interface MysqlErr {
  code: number
  sqlState?: string
  message: string
}

/** Parses an ERR payload (first byte 0xff); accepts the pre-4.1 form without SQLSTATE. */
export function decodeErrPayload(payload: Buffer): MysqlErr {
  const c = new PayloadCursor(payload)
  if (c.u8('the ERR header') !== 0xff) throw new MysqlProtocolError('malformed', 'not an ERR packet')
  const code = c.u16('the error code')
  if (c.remaining >= 6 && payload[c.offset] === 0x23) {
    c.skip(1)
    const sqlState = c.bytes(5).toString('latin1')
    return { code, sqlState, message: c.rest().toString('utf8') }
  }
  return { code, message: c.rest().toString('utf8') }
}

/** Minimal OK packet payload: no rows affected, no last insert id, the given status flags, no warnings. */
export function encodeOkPayload(statusFlags = 0x0002): Buffer {
  const b = Buffer.alloc(7)
  b[0] = 0x00
  b[1] = 0 // affected rows (lenenc 0)
  b[2] = 0 // last insert id (lenenc 0)
  b.writeUInt16LE(statusFlags, 3)
  b.writeUInt16LE(0, 5) // warnings
  return b
}
