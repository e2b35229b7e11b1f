/**
 * The connection phase of the MySQL protocol: capability flags, the v10 initial handshake,
 * SSLRequest / HandshakeResponse41, and the capability policy of the emulator's MySQL front.
 */
import { createHash } from 'node:crypto'
import { encodeLenencBytes, encodeNulString, MysqlProtocolError, PayloadCursor } from './mysql-packets.js'

/** Capability flags (lower 32 bits); `LONG_PASSWORD` doubles as MariaDB's `CLIENT_MYSQL`. */
export const Cap = {
  LONG_PASSWORD: 1,
  FOUND_ROWS: 2,
  LONG_FLAG: 4,
  CONNECT_WITH_DB: 8,
  NO_SCHEMA: 16,
  COMPRESS: 32,
  ODBC: 64,
  LOCAL_FILES: 128,
  IGNORE_SPACE: 256,
  PROTOCOL_41: 512,
  INTERACTIVE: 1024,
  SSL: 2048,
  IGNORE_SIGPIPE: 4096,
  TRANSACTIONS: 8192,
  RESERVED: 16384,
  SECURE_CONNECTION: 32768,
  MULTI_STATEMENTS: 1 << 16,
  MULTI_RESULTS: 1 << 17,
  PS_MULTI_RESULTS: 1 << 18,
  PLUGIN_AUTH: 1 << 19,
  CONNECT_ATTRS: 1 << 20,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 1 << 21,
  CAN_HANDLE_EXPIRED_PASSWORDS: 1 << 22,
  SESSION_TRACK: 1 << 23,
  DEPRECATE_EOF: 1 << 24,
  OPTIONAL_RESULTSET_METADATA: 1 << 25,
  ZSTD_COMPRESSION: 1 << 26,
  QUERY_ATTRIBUTES: 1 << 27,
  MULTI_FACTOR_AUTH: 1 << 28,
  CAPABILITY_EXTENSION: 1 << 29,
  SSL_VERIFY_SERVER_CERT: 1 << 30,
  REMEMBER_OPTIONS: 2 ** 31,
} as const

/**
 * Flags the front implements itself, because it terminates the connection phase: TLS, the
 * auth plugin exchange, connect attributes and the initial schema. They are offered to the
 * client whatever the upstream says, and re-decided for the upstream login.
 */
export const FRONT_TERMINATED_CAPS =
  Cap.SSL |
  Cap.PLUGIN_AUTH |
  Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA |
  Cap.SECURE_CONNECTION |
  Cap.CONNECT_ATTRS |
  Cap.CONNECT_WITH_DB

/**
 * Flags never negotiated: compression would change the framing of the relayed bytes (the
 * front relays them unchanged), the rest belong to handshake features the front does not
 * implement or are client-only hints.
 */
export const NEVER_OFFERED_CAPS =
  Cap.COMPRESS |
  Cap.ZSTD_COMPRESSION |
  Cap.MULTI_FACTOR_AUTH |
  Cap.CAPABILITY_EXTENSION |
  Cap.SSL_VERIFY_SERVER_CERT |
  Cap.REMEMBER_OPTIONS

/** Unsigned 32-bit AND-NOT, since JS bitwise operators return signed numbers. */
export function capsWithout(caps: number, mask: number): number {
  return (caps & ~mask) >>> 0
}

/** Unsigned 32-bit AND. */
export function capsAnd(a: number, b: number): number {
  return (a & b) >>> 0
}

/** Unsigned 32-bit OR. */
export function capsOr(a: number, b: number): number {
  return (a | b) >>> 0
}

/** The fields of a protocol v10 initial handshake that matter to the front. */
export interface ServerGreeting {
  serverVersion: string
  connectionId: number
  /** The 20-byte scramble (auth-plugin-data, without its trailing NUL). */
  scramble: Buffer
  capabilities: number
  /** MariaDB extended capabilities (bits 32..63, shifted down); 0 unless the server is MariaDB. */
  extendedCapabilities: number
  charset: number
  statusFlags: number
  authPluginName: string
}

/** Encodes a protocol v10 initial handshake. */
export function encodeGreeting(g: ServerGreeting): Buffer {
  if (g.scramble.length !== 20) throw new RangeError('scramble must be 20 bytes')
  const fixed = Buffer.alloc(4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 6 + 4)
  let o = 0
  fixed.writeUInt32LE(g.connectionId >>> 0, o)
  o += 4
  g.scramble.copy(fixed, o, 0, 8)
  o += 8
  fixed[o++] = 0 // filler
  fixed.writeUInt16LE(g.capabilities & 0xffff, o)
  o += 2
  fixed[o++] = g.charset
  fixed.writeUInt16LE(g.statusFlags, o)
  o += 2
  fixed.writeUInt16LE(g.capabilities >>> 16, o)
  o += 2
  fixed[o++] = 21 // auth-plugin-data length, scramble plus its NUL
  o += 6 // reserved
  // MariaDB signals its extended capabilities by clearing CLIENT_MYSQL and filling the last 4 reserved bytes.
  if (!(g.capabilities & Cap.LONG_PASSWORD)) fixed.writeUInt32LE(g.extendedCapabilities >>> 0, o)
  return Buffer.concat([
    Buffer.from([10]),
    encodeNulString(g.serverVersion),
    fixed,
    g.scramble.subarray(8, 20),
    Buffer.from([0]),
    encodeNulString(g.authPluginName),
  ])
}

/** Parses a server's protocol v10 initial handshake. */
export function decodeGreeting(payload: Buffer): ServerGreeting {
  const c = new PayloadCursor(payload)
  const protocol = c.u8('the protocol version')
  if (protocol !== 10) throw new MysqlProtocolError('malformed', `unsupported protocol version ${protocol}`)
  const serverVersion = c.nulBytes('the server version').toString('utf8')
  const connectionId = c.u32('the connection id')
  const part1 = c.bytes(8, 'the scramble')
  c.skip(1)
  let capabilities = c.u16('the capability flags')
  let charset = 0
  let statusFlags = 0
  let extendedCapabilities = 0
  let scramble = part1
  let authPluginName = 'mysql_native_password'
  if (c.remaining > 0) {
    charset = c.u8('the character set')
    statusFlags = c.u16('the status flags')
    capabilities = (capabilities | (c.u16('the capability flags') << 16)) >>> 0
    const dataLength = c.u8('the scramble length')
    c.skip(6, 'the reserved bytes')
    const ext = c.u32('the extended capability flags')
    if (!(capabilities & Cap.LONG_PASSWORD)) extendedCapabilities = ext
    if (capabilities & Cap.SECURE_CONNECTION) {
      const part2Length = Math.max(13, dataLength - 8)
      const part2 = c.bytes(Math.min(part2Length, c.remaining), 'the scramble')
      scramble = Buffer.concat([part1, part2]).subarray(0, 20)
    }
    if (capabilities & Cap.PLUGIN_AUTH && c.remaining > 0) {
      authPluginName = c.nulBytes('the auth plugin name', true).toString('utf8')
    }
  }
  return {
    serverVersion,
    connectionId,
    scramble,
    capabilities,
    extendedCapabilities,
    charset,
    statusFlags,
    authPluginName,
  }
}

/** Payload length of an SSLRequest: the fixed head of a HandshakeResponse41 and nothing else. */
export const SSL_REQUEST_LENGTH = 32

/** A client's HandshakeResponse41 (or, with `isSslRequest`, its SSLRequest). */
export interface HandshakeResponse {
  capabilities: number
  extendedCapabilities: number
  maxPacketSize: number
  charset: number
  user: string
  authResponse: Buffer
  database?: string
  authPluginName?: string
  /** The raw connect-attributes block (without its length prefix), relayed upstream as is. */
  connectAttrs?: Buffer
}

/** True if this first client packet is an SSLRequest (the client wants TLS before it says more). */
export function isSslRequest(payload: Buffer): boolean {
  return payload.length === SSL_REQUEST_LENGTH && (payload.readUInt32LE(0) & Cap.SSL) !== 0
}

/** Parses a HandshakeResponse41; rejects the pre-4.1 format (no real client has sent it in 20 years). */
export function decodeHandshakeResponse(payload: Buffer): HandshakeResponse {
  const c = new PayloadCursor(payload)
  const capabilities = c.u32('the capability flags')
  if (!(capabilities & Cap.PROTOCOL_41)) {
    throw new MysqlProtocolError('malformed', 'client does not speak protocol 4.1')
  }
  const maxPacketSize = c.u32('the max packet size')
  const charset = c.u8('the character set')
  c.skip(19, 'the reserved bytes')
  const ext = c.u32('the extended capability flags')
  const extendedCapabilities = capabilities & Cap.LONG_PASSWORD ? 0 : ext
  const user = c.nulBytes('the user name').toString('utf8')
  let authResponse: Buffer
  if (capabilities & Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA) authResponse = c.lenencBytes('the auth response')
  else if (capabilities & Cap.SECURE_CONNECTION) authResponse = c.bytes(c.u8('the auth response length'))
  else authResponse = c.nulBytes('the auth response', true)
  const out: HandshakeResponse = {
    capabilities,
    extendedCapabilities,
    maxPacketSize,
    charset,
    user,
    authResponse,
  }
  if (capabilities & Cap.CONNECT_WITH_DB && c.remaining > 0) {
    const db = c.nulBytes('the database name', true).toString('utf8')
    if (db !== '') out.database = db
  }
  if (capabilities & Cap.PLUGIN_AUTH && c.remaining > 0) {
    out.authPluginName = c.nulBytes('the auth plugin name', true).toString('utf8')
  }
  if (capabilities & Cap.CONNECT_ATTRS && c.remaining > 0) {
    out.connectAttrs = c.lenencBytes('the connect attributes')
  }
  return out
}

/** Encodes a HandshakeResponse41 (the front uses it to log in upstream). */
export function encodeHandshakeResponse(r: HandshakeResponse): Buffer {
  const head = Buffer.alloc(32)
  head.writeUInt32LE(r.capabilities >>> 0, 0)
  head.writeUInt32LE(r.maxPacketSize >>> 0, 4)
  head[8] = r.charset
  if (!(r.capabilities & Cap.LONG_PASSWORD)) head.writeUInt32LE(r.extendedCapabilities >>> 0, 28)
  const parts: Buffer[] = [head, encodeNulString(r.user)]
  if (r.capabilities & Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA) parts.push(encodeLenencBytes(r.authResponse))
  else if (r.capabilities & Cap.SECURE_CONNECTION) {
    if (r.authResponse.length > 255) throw new RangeError('auth response too long for a 1-byte length')
    parts.push(Buffer.from([r.authResponse.length]), r.authResponse)
  } else parts.push(encodeNulString(r.authResponse))
  if (r.capabilities & Cap.CONNECT_WITH_DB) parts.push(encodeNulString(r.database ?? ''))
  if (r.capabilities & Cap.PLUGIN_AUTH)
    parts.push(encodeNulString(r.authPluginName ?? 'mysql_native_password'))
  if (r.capabilities & Cap.CONNECT_ATTRS) parts.push(encodeLenencBytes(r.connectAttrs ?? Buffer.alloc(0)))
  return Buffer.concat(parts)
}

/** AuthSwitchRequest payload: 0xfe, plugin name, plugin data. */
export function encodeAuthSwitchRequest(pluginName: string, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xfe]), encodeNulString(pluginName), data])
}

/** Parses an AuthSwitchRequest (first byte 0xfe) from a server. */
export function decodeAuthSwitchRequest(payload: Buffer): { pluginName: string; data: Buffer } {
  const c = new PayloadCursor(payload)
  if (c.u8('the auth switch header') !== 0xfe) throw new MysqlProtocolError('malformed', 'not an auth switch')
  const pluginName = c.nulBytes('the auth plugin name', true).toString('utf8')
  let data = c.rest()
  // Servers terminate the scramble with a NUL that is not part of it.
  if (data.length === 21 && data[20] === 0) data = data.subarray(0, 20)
  return { pluginName, data }
}

function sha1(...parts: Buffer[]): Buffer {
  const h = createHash('sha1')
  for (const p of parts) h.update(p)
  return h.digest()
}

/** `mysql_native_password`: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))); empty password → empty response. */
export function nativePasswordScramble(password: string, scramble: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0)
  const stage1 = sha1(Buffer.from(password, 'utf8'))
  const stage2 = sha1(stage1)
  const mask = sha1(scramble.subarray(0, 20), stage2)
  for (let i = 0; i < mask.length; i++) mask[i] = (mask[i] as number) ^ (stage1[i] as number)
  return mask
}
