/**
 * The emulator's side of the upstream MySQL/MariaDB server: learning what it offers, and
 * logging in on behalf of a client whose token verified.
 */
import { constants, createHash, publicEncrypt } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { ChannelClosedError, PacketChannel } from './mysql-channel.js'
import {
  Cap,
  capsAnd,
  capsOr,
  capsWithout,
  decodeAuthSwitchRequest,
  decodeGreeting,
  encodeHandshakeResponse,
  nativePasswordScramble,
  type ServerGreeting,
} from './mysql-handshake.js'
import { decodeErrPayload, type MysqlErr, MysqlProtocolError } from './mysql-packets.js'

/** Where the front logs in: parsed from a `mysql://user[:pass]@host:port/db` URL. */
export interface UpstreamTarget {
  host: string
  port: number
  /** Used upstream for every session when set; otherwise each session uses the IAM user's name. */
  user?: string
  password: string
  database?: string
}

/** Parses the upstream URL; throws a plain `Error` naming the expected shape. */
export function parseMysqlUpstreamUrl(url: string): UpstreamTarget {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new Error('upstream must be a URL like mysql://user:password@host:3306/db')
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') {
    throw new Error(`upstream for the MySQL front must be a mysql:// URL, got ${u.protocol}//`)
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1'
  const port = u.port ? Number(u.port) : 3306
  const target: UpstreamTarget = { host, port, password: decodeURIComponent(u.password) }
  if (u.username) target.user = decodeURIComponent(u.username)
  const db = decodeURIComponent(u.pathname.replace(/^\//, ''))
  if (db) target.database = db
  return target
}

/** The upstream failed or refused the login; `serverError` is its ERR packet, relayed to the client. */
export class UpstreamLoginError extends Error {
  override readonly name = 'UpstreamLoginError'
  readonly serverError: MysqlErr | undefined

  constructor(message: string, serverError?: MysqlErr, options?: { cause?: unknown }) {
    super(message, options)
    this.serverError = serverError
  }
}

/** What a client asked for, translated into an upstream login by the front. */
export interface UpstreamLoginRequest {
  user: string
  database?: string
  /** Client capabilities that shape the relayed command phase (already intersected with the offer). */
  relayCapabilities: number
  /** MariaDB extended capabilities the client asked for; sent only when it cleared CLIENT_MYSQL. */
  extendedCapabilities: number
  clientMysqlFlag: boolean
  charset: number
  maxPacketSize: number
  connectAttrs?: Buffer
}

/** A logged-in upstream connection ready for relaying. */
export interface UpstreamSession {
  socket: Socket
  /** The upstream's OK payload, forwarded to the client so status flags and session tracking match. */
  okPayload: Buffer
  /** Bytes that arrived after the OK (normally none). */
  leftover: Buffer
}

const MAX_AUTH_ROUNDS = 4
/** A probed connection is reused for the next login only while the server still waits for it. */
const SPARE_MAX_AGE_MS = 4_000

interface OpenConnection {
  channel: PacketChannel
  greeting: ServerGreeting
}

/**
 * One upstream server. The first client connection probes it for its greeting (version,
 * capabilities) so the front can offer the client only what the upstream honours; the probed
 * connection is then kept briefly and used for the next login, so the probe normally costs no
 * aborted handshake (MySQL blocks hosts after `max_connect_errors` of those).
 */
export class MysqlUpstream {
  private profilePromise: Promise<ServerGreeting> | undefined
  private spare: { conn: OpenConnection; timer: NodeJS.Timeout } | undefined
  private closed = false

  constructor(
    readonly target: UpstreamTarget,
    private readonly timeoutMs: number,
  ) {}

  /** `host:port` for messages; never includes the password. */
  describe(): string {
    return `${this.target.host.includes(':') ? `[${this.target.host}]` : this.target.host}:${this.target.port}`
  }

  /** The upstream's greeting, fetched once; a failed probe is retried by the next caller. */
  profile(): Promise<ServerGreeting> {
    if (!this.profilePromise) {
      const p = this.open().then((conn) => {
        this.keepSpare(conn)
        return conn.greeting
      })
      this.profilePromise = p
      p.catch(() => {
        if (this.profilePromise === p) this.profilePromise = undefined
      })
    }
    return this.profilePromise
  }

  /** Drops the cached greeting (e.g. the server changed its capabilities after a restart). */
  forgetProfile(): void {
    this.profilePromise = undefined
  }

  /** Destroys the spare connection; later logins still work. */
  close(): void {
    this.closed = true
    this.dropSpare()
  }

  private keepSpare(conn: OpenConnection): void {
    this.dropSpare()
    if (this.closed) {
      conn.channel.socket.destroy()
      return
    }
    conn.channel.socket.unref()
    const timer = setTimeout(() => this.dropSpare(), SPARE_MAX_AGE_MS)
    timer.unref()
    this.spare = { conn, timer }
  }

  private dropSpare(): void {
    if (!this.spare) return
    clearTimeout(this.spare.timer)
    this.spare.conn.channel.socket.destroy()
    this.spare = undefined
  }

  private takeSpare(): OpenConnection | undefined {
    const s = this.spare
    if (!s) return undefined
    this.spare = undefined
    clearTimeout(s.timer)
    if (s.conn.channel.socket.destroyed) return undefined
    s.conn.channel.socket.ref()
    return s.conn
  }

  private open(): Promise<OpenConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.target.host, port: this.target.port })
      socket.setNoDelay(true)
      const channel = new PacketChannel(socket, 64 * 1024)
      const timer = setTimeout(() => {
        socket.destroy()
        reject(
          new UpstreamLoginError(
            `upstream MySQL at ${this.describe()} did not greet within ${this.timeoutMs} ms`,
          ),
        )
      }, this.timeoutMs)
      channel.read().then(
        (packet) => {
          clearTimeout(timer)
          try {
            if (packet.payload[0] === 0xff) {
              const err = decodeErrPayload(packet.payload)
              throw new UpstreamLoginError(`upstream MySQL refused the connection: ${err.message}`, err)
            }
            const greeting = decodeGreeting(packet.payload)
            if (!(greeting.capabilities & Cap.PROTOCOL_41)) {
              throw new UpstreamLoginError(`upstream MySQL at ${this.describe()} does not speak protocol 4.1`)
            }
            resolve({ channel, greeting })
          } catch (err) {
            socket.destroy()
            reject(err)
          }
        },
        (err: Error) => {
          clearTimeout(timer)
          socket.destroy()
          const why = (err.cause as NodeJS.ErrnoException | undefined)?.code ?? err.message
          reject(
            new UpstreamLoginError(
              `upstream MySQL at ${this.describe()} is unreachable (${why})`,
              undefined,
              { cause: err },
            ),
          )
        },
      )
    })
  }

  /** Opens (or reuses the spare) connection and logs in; bounded by the timeout. */
  async login(req: UpstreamLoginRequest): Promise<UpstreamSession> {
    const conn = this.takeSpare() ?? (await this.open())
    const socket = conn.channel.socket
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new UpstreamLoginError(`upstream MySQL at ${this.describe()} did not finish the login in time`),
        )
      }, this.timeoutMs)
    })
    try {
      const auth = this.authenticate(conn, req)
      // If the timeout wins, the abandoned login still settles (its socket is destroyed below).
      auth.catch(() => {})
      const okPayload = await Promise.race([auth, timeout])
      return { socket, okPayload, leftover: conn.channel.detach() }
    } catch (err) {
      socket.destroy()
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  private async authenticate(conn: OpenConnection, req: UpstreamLoginRequest): Promise<Buffer> {
    const { channel, greeting } = conn
    const missing = capsWithout(req.relayCapabilities, greeting.capabilities)
    if (missing !== 0) {
      this.forgetProfile()
      throw new UpstreamLoginError(
        `upstream MySQL no longer offers capabilities 0x${missing.toString(16)}; reconnect`,
      )
    }
    const upstreamIsMariaDb = !(greeting.capabilities & Cap.LONG_PASSWORD)
    const sendExtended = upstreamIsMariaDb && !req.clientMysqlFlag
    let capabilities = capsOr(req.relayCapabilities, Cap.PROTOCOL_41 | Cap.SECURE_CONNECTION)
    capabilities = sendExtended
      ? capsWithout(capabilities, Cap.LONG_PASSWORD)
      : capsOr(capabilities, Cap.LONG_PASSWORD)
    capabilities = capsOr(capabilities, capsAnd(greeting.capabilities, Cap.PLUGIN_AUTH))
    const database = req.database ?? this.target.database
    if (database) capabilities = capsOr(capabilities, Cap.CONNECT_WITH_DB)
    if (req.connectAttrs && greeting.capabilities & Cap.CONNECT_ATTRS) {
      capabilities = capsOr(capabilities, Cap.CONNECT_ATTRS)
    }
    const password = this.target.password
    let plugin =
      greeting.authPluginName === 'caching_sha2_password' ? greeting.authPluginName : 'mysql_native_password'
    let scramble = greeting.scramble
    const response = {
      capabilities,
      extendedCapabilities: sendExtended
        ? capsAnd(req.extendedCapabilities, greeting.extendedCapabilities)
        : 0,
      maxPacketSize: req.maxPacketSize,
      charset: req.charset,
      user: this.target.user ?? req.user,
      authResponse: authData(plugin, password, scramble),
      authPluginName: plugin,
      ...(database ? { database } : {}),
      ...(capabilities & Cap.CONNECT_ATTRS && req.connectAttrs ? { connectAttrs: req.connectAttrs } : {}),
    }
    channel.write(1, encodeHandshakeResponse(response))
    for (let round = 0; round < MAX_AUTH_ROUNDS; round++) {
      const packet = await channel.read().catch((err: unknown) => {
        throw err instanceof ChannelClosedError
          ? new UpstreamLoginError(`upstream MySQL at ${this.describe()} closed the connection during login`)
          : err
      })
      const first = packet.payload[0]
      if (first === 0x00) return packet.payload
      if (first === 0xff) {
        const err = decodeErrPayload(packet.payload)
        throw new UpstreamLoginError(`upstream MySQL refused the login: ${err.message}`, err)
      }
      if (first === 0xfe) {
        const sw = decodeAuthSwitchRequest(packet.payload)
        if (sw.pluginName !== 'mysql_native_password' && sw.pluginName !== 'caching_sha2_password') {
          throw new UpstreamLoginError(
            `upstream MySQL asks for auth plugin '${sw.pluginName}', which the emulator does not implement; ` +
              'give the upstream user mysql_native_password or caching_sha2_password',
          )
        }
        plugin = sw.pluginName
        scramble = sw.data
        channel.write(packet.seq + 1, authData(plugin, password, scramble))
        continue
      }
      if (first === 0x01 && plugin === 'caching_sha2_password') {
        const status = packet.payload[1]
        if (status === 0x03) continue // fast auth succeeded; the OK follows
        if (status === 0x04) {
          // Full authentication over plain TCP: ask for the server's RSA key and encrypt with it.
          channel.write(packet.seq + 1, Buffer.from([0x02]))
          const keyPacket = await channel.read()
          const pem = keyPacket.payload.subarray(1).toString('latin1')
          const clear = Buffer.from(`${password}\0`, 'utf8')
          for (let i = 0; i < clear.length; i++) {
            clear[i] = (clear[i] as number) ^ (scramble[i % scramble.length] as number)
          }
          const encrypted = publicEncrypt({ key: pem, padding: constants.RSA_PKCS1_OAEP_PADDING }, clear)
          channel.write(keyPacket.seq + 1, encrypted)
          continue
        }
      }
      throw new MysqlProtocolError(
        'malformed',
        `unexpected packet 0x${(first ?? 0).toString(16)} during upstream login`,
      )
    }
    throw new UpstreamLoginError('upstream MySQL login took too many auth rounds')
  }
}

function authData(plugin: string, password: string, scramble: Buffer): Buffer {
  if (plugin === 'caching_sha2_password') return cachingSha2Scramble(password, scramble)
  return nativePasswordScramble(password, scramble)
}

function sha256(...parts: Buffer[]): Buffer {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest()
}

/** `caching_sha2_password` fast path: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble). */
export function cachingSha2Scramble(password: string, scramble: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0)
  const stage1 = sha256(Buffer.from(password, 'utf8'))
  const stage2 = sha256(stage1)
  const stage3 = sha256(stage2, scramble.subarray(0, 20))
  for (let i = 0; i < stage3.length; i++) stage3[i] = (stage3[i] as number) ^ (stage1[i] as number)
  return stage3
}
