import { isIP, connect as netConnect, type Socket } from 'node:net'
import { checkServerIdentity, type DetailedPeerCertificate, connect as tlsConnect } from 'node:tls'
import type { DatabaseEngine } from '@rds-iam/core'

/** What the server's TLS looked like, judged without sending any credential. */
export interface TlsProbeResult {
  /** The server agreed to TLS (PostgreSQL answered `S` to SSLRequest; MySQL offered `CLIENT_SSL`). */
  offered: boolean
  /** PostgreSQL without TLS: the server's answer to a plain startup packet (no password is ever sent). */
  plainAnswer?: { message: string; code?: string } | 'would-accept-plain-login'
  protocol?: string
  /** The chain verified against the CA list given. */
  chainVerified?: boolean
  /** OpenSSL's reason when it did not, e.g. `SELF_SIGNED_CERT_IN_CHAIN`. */
  chainError?: string
  /** `tls.checkServerIdentity(identity, cert)`'s message when the name does not match. */
  nameError?: string
  /** DNS and IP names on the certificate (subjectAltName, else the CN). */
  names: string[]
  issuer?: string
  validTo?: string
}

/** Options of {@link probeTls}. */
export interface TlsProbeOptions {
  engine: DatabaseEngine
  host: string
  port: number
  /** The name the certificate must carry: the signing host (core's rule). */
  identity: string
  ca: string[]
  timeoutMs: number
  /** For PostgreSQL's plain-startup probe when TLS is refused. */
  user: string
  database?: string
}

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
const CLIENT_LONG_PASSWORD = 0x1
const CLIENT_PROTOCOL_41 = 0x200
const CLIENT_SSL = 0x800
const CLIENT_SECURE_CONNECTION = 0x8000

/** Reads from a socket until `take` returns a value (or the socket ends). */
function reader(socket: Socket) {
  let buffered = Buffer.alloc(0)
  let waiter: (() => void) | undefined
  let ended: Error | undefined
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk])
    waiter?.()
  }
  const onEnd = () => {
    ended = new Error('the server closed the connection')
    waiter?.()
  }
  socket.on('data', onData)
  socket.on('end', onEnd)
  return {
    async read<T>(take: (buf: Buffer) => { value: T; used: number } | undefined): Promise<T> {
      for (;;) {
        const got = take(buffered)
        if (got) {
          buffered = buffered.subarray(got.used)
          return got.value
        }
        if (ended) throw ended
        await new Promise<void>((resolve) => {
          waiter = resolve
        })
        waiter = undefined
      }
    },
    detach() {
      socket.off('data', onData)
      socket.off('end', onEnd)
    },
  }
}

function namesOf(cert: DetailedPeerCertificate): string[] {
  const alt = cert.subjectaltname
  if (alt) {
    return alt
      .split(/,\s*/)
      .map((entry) => entry.replace(/^(DNS|IP Address):/, '').trim())
      .filter(Boolean)
  }
  const cn = cert.subject?.CN
  return cn ? [Array.isArray(cn) ? cn.join(',') : cn] : []
}

function issuerOf(cert: DetailedPeerCertificate): string | undefined {
  const i = cert.issuer
  if (!i) return undefined
  const pick = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v)
  return [pick(i.CN), pick(i.O)].filter(Boolean).join(', ') || undefined
}

function upgrade(socket: Socket, o: TlsProbeOptions): Promise<TlsProbeResult> {
  return new Promise((resolve, reject) => {
    // rejectUnauthorized is off on purpose: this probe sends nothing secret, and it must see a
    // bad certificate to explain it. The login step later verifies for real.
    const secure = tlsConnect({
      socket,
      ca: o.ca,
      rejectUnauthorized: false,
      // Node folds a name mismatch into authorizationError; the name is checked separately below.
      checkServerIdentity: () => undefined,
      ...(isIP(o.identity) === 0 ? { servername: o.identity } : {}),
    })
    secure.on('error', reject)
    secure.once('secureConnect', () => {
      const cert = secure.getPeerCertificate(true)
      const nameErr = cert && Object.keys(cert).length > 0 ? checkServerIdentity(o.identity, cert) : undefined
      const authError = secure.authorizationError as unknown
      resolve({
        offered: true,
        protocol: secure.getProtocol() ?? undefined,
        chainVerified: secure.authorized,
        ...(authError ? { chainError: String(authError) } : {}),
        ...(nameErr ? { nameError: nameErr.message } : {}),
        names: cert ? namesOf(cert) : [],
        ...(cert ? { issuer: issuerOf(cert), validTo: cert.valid_to } : {}),
      })
      secure.destroy()
    })
  })
}

function pgMessage(buf: Buffer) {
  if (buf.length < 5) return undefined
  const len = buf.readUInt32BE(1)
  if (buf.length < 1 + len) return undefined
  return { value: { type: String.fromCharCode(buf[0] ?? 0), body: buf.subarray(5, 1 + len) }, used: 1 + len }
}

function pgErrorFields(body: Buffer): { message: string; code?: string } {
  const fields: Record<string, string> = {}
  let i = 0
  while (i < body.length && body[i] !== 0) {
    const key = String.fromCharCode(body[i] ?? 0)
    const end = body.indexOf(0, i + 1)
    fields[key] = body.subarray(i + 1, end < 0 ? body.length : end).toString('utf8')
    i = end < 0 ? body.length : end + 1
  }
  return { message: fields.M ?? 'unknown error', ...(fields.C ? { code: fields.C } : {}) }
}

async function probePostgres(socket: Socket, o: TlsProbeOptions): Promise<TlsProbeResult> {
  const r = reader(socket)
  socket.write(SSL_REQUEST)
  const answer = await r.read((b) => (b.length >= 1 ? { value: b[0], used: 1 } : undefined))
  if (answer === 0x53) {
    r.detach()
    return upgrade(socket, o)
  }
  if (answer !== 0x4e) {
    throw new Error(`the server answered SSLRequest with 0x${(answer ?? 0).toString(16)}: is it PostgreSQL?`)
  }
  // No TLS. Ask what a plain login would get: RDS refuses IAM users with pg_hba "no encryption"
  // before any password is requested, and this probe never answers a password request.
  const params = Buffer.from(`user\0${o.user}\0database\0${o.database ?? 'postgres'}\0\0`)
  const head = Buffer.alloc(8)
  head.writeUInt32BE(8 + params.length, 0)
  head.writeUInt32BE(196608, 4)
  socket.write(Buffer.concat([head, params]))
  const msg = await r.read(pgMessage)
  r.detach()
  if (msg.type === 'E') return { offered: false, plainAnswer: pgErrorFields(msg.body), names: [] }
  return { offered: false, plainAnswer: 'would-accept-plain-login', names: [] }
}

function mysqlPacket(buf: Buffer) {
  if (buf.length < 4) return undefined
  const len = (buf[0] ?? 0) | ((buf[1] ?? 0) << 8) | ((buf[2] ?? 0) << 16)
  if (buf.length < 4 + len) return undefined
  return { value: buf.subarray(4, 4 + len), used: 4 + len }
}

async function probeMysql(socket: Socket, o: TlsProbeOptions): Promise<TlsProbeResult> {
  const r = reader(socket)
  const greeting = await r.read(mysqlPacket)
  r.detach()
  if (greeting[0] === 0xff) {
    throw new Error(
      `the server refused the connection: ${greeting.subarray(3).toString('utf8')} (errno ${greeting.readUInt16LE(1)})`,
    )
  }
  if (greeting[0] !== 10) throw new Error(`unexpected handshake version ${greeting[0]}: is it MySQL?`)
  const versionEnd = greeting.indexOf(0, 1)
  // protocol(1) version(NUL) connection id(4) auth data(8) filler(1) capabilities(2)
  const capabilities = greeting.readUInt16LE(versionEnd + 1 + 4 + 8 + 1)
  if ((capabilities & CLIENT_SSL) === 0) return { offered: false, names: [] }
  const packet = Buffer.alloc(4 + 32)
  packet.writeUIntLE(32, 0, 3)
  packet[3] = 1
  packet.writeUInt32LE(CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION, 4)
  packet.writeUInt32LE(16 * 1024 * 1024, 8)
  packet[12] = 45 // utf8mb4_general_ci
  socket.write(packet)
  return upgrade(socket, o)
}

/**
 * Opens a connection, asks for TLS the way the engine's clients do, and reports the server's
 * certificate: chain verified against `ca`, name checked against `identity`. Sends no token or
 * password. Rejects on network errors or an answer that is not the engine's protocol.
 */
export function probeTls(o: TlsProbeOptions): Promise<TlsProbeResult> {
  const socket = netConnect({ host: o.host, port: o.port })
  socket.setNoDelay(true)
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no TLS handshake within ${o.timeoutMs} ms`)), o.timeoutMs)
  })
  const failed = new Promise<never>((_, reject) => socket.on('error', reject))
  const run = new Promise<TlsProbeResult>((resolve, reject) => {
    socket.once('connect', () => {
      ;(o.engine === 'postgres' ? probePostgres(socket, o) : probeMysql(socket, o)).then(resolve, reject)
    })
  })
  return Promise.race([run, failed, timeout]).finally(() => {
    clearTimeout(timer)
    socket.destroy()
  })
}
