import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { serialize } from 'pg-protocol'
import type { BackendMessage } from 'pg-protocol/dist/messages.js'
import { Parser } from 'pg-protocol/dist/parser.js'
import { HandshakeError, PacketReader } from './packet-reader.js'
import { startupMessage } from './postgres-messages.js'

/** Where and as whom the front logs in upstream. */
export interface PostgresUpstreamTarget {
  host: string
  port: number
  /** User from the URL; when absent each session uses the IAM user's own name. */
  user: string | undefined
  password: string | undefined
  /**
   * Database from the URL path. Used when the client names none or names its own user name
   * (what psql and pg send by default), so `--upstream postgres://…/test` lands in `test`.
   */
  database: string | undefined
}

/** A logged-in upstream session, stopped right after its first ReadyForQuery. */
export interface PostgresUpstreamSession {
  socket: Socket
  /** Raw frames from AuthenticationOk to ReadyForQuery inclusive, to replay to the client. */
  frames: { type: number; raw: Buffer; message: BackendMessage }[]
  /** Bytes the upstream sent after ReadyForQuery (normally none). */
  leftover: Buffer
}

/** The upstream refused the session; `frame` is its ErrorResponse, forwarded to the client verbatim. */
export class UpstreamRefused extends Error {
  constructor(
    message: string,
    readonly frame: Buffer | undefined,
  ) {
    super(message)
    this.name = 'UpstreamRefused'
  }
}

/** Upstream messages are small before ReadyForQuery; anything larger is not PostgreSQL. */
const MAX_UPSTREAM_HANDSHAKE_MESSAGE = 1 << 20

/** Parses `postgres://user:password@host:port/db` (database is ignored: the client picks it). */
export function parsePostgresUpstreamUrl(url: string): PostgresUpstreamTarget {
  const u = new URL(url)
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: u.port === '' ? 5432 : Number(u.port),
    user: u.username === '' ? undefined : decodeURIComponent(u.username),
    password: u.password === '' ? undefined : decodeURIComponent(u.password),
    database: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : undefined,
  }
}

/**
 * Opens a TCP session to the upstream PostgreSQL, sends the client's startup parameters as
 * `user` and answers trust, cleartext, MD5 or SCRAM-SHA-256 with the URL's password.
 */
export async function openPostgresUpstream(
  target: PostgresUpstreamTarget,
  params: [string, string][],
  timeoutMs: number,
): Promise<PostgresUpstreamSession> {
  const socket = connect({ host: target.host, port: target.port, noDelay: true })
  // Stays for the socket's whole life: the relay observes failures through 'close'.
  socket.on('error', () => {})
  const reader = new PacketReader(socket)
  const timer = setTimeout(() => {
    const err = new HandshakeError('upstream-timeout', `upstream did not answer within ${timeoutMs} ms`)
    reader.fail(err)
    socket.destroy(err)
  }, timeoutMs)
  const parser = new Parser()
  const user = params.find(([k]) => k === 'user')?.[1] ?? ''
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
      socket.once('close', () => reject(new Error('upstream closed the connection')))
    })
    socket.write(startupMessage(params))
    let scram: ScramClient | undefined
    const frames: PostgresUpstreamSession['frames'] = []
    let authenticated = false
    for (;;) {
      const { type, raw } = await reader.typed(MAX_UPSTREAM_HANDSHAKE_MESSAGE)
      const message = parseOne(parser, raw)
      if (message.name === 'error') {
        throw new UpstreamRefused(
          `upstream refused the session: ${(message as unknown as Error).message}`,
          raw,
        )
      }
      if (authenticated) {
        frames.push({ type, raw, message })
        if (message.name === 'readyForQuery') break
        continue
      }
      switch (message.name) {
        case 'authenticationOk':
          authenticated = true
          frames.push({ type, raw, message })
          break
        case 'authenticationCleartextPassword':
          socket.write(serialize.password(requirePassword(target)))
          break
        case 'authenticationMD5Password': {
          const salt = (message as unknown as { salt: Buffer }).salt
          socket.write(serialize.password(md5Password(user, requirePassword(target), salt)))
          break
        }
        case 'authenticationSASL': {
          const mechanisms = (message as unknown as { mechanisms: string[] }).mechanisms
          if (!mechanisms.includes('SCRAM-SHA-256')) {
            throw new UpstreamRefused(`upstream offers only ${mechanisms.join(', ')}`, undefined)
          }
          scram = new ScramClient(requirePassword(target))
          socket.write(serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', scram.clientFirst()))
          break
        }
        case 'authenticationSASLContinue':
          if (scram === undefined) throw new UpstreamRefused('SASLContinue without SASL', undefined)
          socket.write(serialize.sendSCRAMClientFinalMessage(scram.clientFinal(dataOf(message))))
          break
        case 'authenticationSASLFinal':
          if (scram === undefined || !scram.verifyServerFinal(dataOf(message))) {
            throw new UpstreamRefused('upstream SCRAM server signature is wrong', undefined)
          }
          break
        case 'notice':
          break
        default:
          throw new UpstreamRefused(
            `upstream asked for unsupported authentication (${message.name})`,
            undefined,
          )
      }
    }
    return { socket, frames, leftover: reader.detach() }
  } catch (err) {
    reader.detach()
    socket.on('error', () => {})
    socket.destroy()
    if (err instanceof UpstreamRefused) throw err
    throw new UpstreamRefused(
      `upstream ${target.host}:${target.port} unreachable: ${(err as Error).message}`,
      undefined,
    )
  } finally {
    clearTimeout(timer)
  }
}

function parseOne(parser: Parser, raw: Buffer): BackendMessage {
  let parsed: BackendMessage | undefined
  parser.parse(raw, (m) => {
    parsed = m
  })
  if (parsed === undefined) throw new UpstreamRefused('unparseable upstream message', undefined)
  return parsed
}

function dataOf(message: BackendMessage): string {
  return (message as unknown as { data: string }).data
}

function requirePassword(target: PostgresUpstreamTarget): string {
  if (target.password === undefined) {
    throw new UpstreamRefused('upstream asks for a password; put it in the upstream URL', undefined)
  }
  return target.password
}

function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = createHash('md5')
    .update(password + user)
    .digest('hex')
  return 'md5' + createHash('md5').update(inner).update(salt).digest('hex')
}

/** SCRAM-SHA-256 (RFC 5802/7677) without channel binding, as PostgreSQL's `scram-sha-256` method needs. */
class ScramClient {
  readonly #password: string
  readonly #nonce = randomBytes(18).toString('base64')
  #serverSignature: Buffer | undefined

  constructor(password: string) {
    this.#password = password
  }

  /** PostgreSQL ignores the SCRAM user name (it uses the startup user), hence `n=*`. */
  clientFirst(): string {
    return `n,,${this.#bare()}`
  }

  clientFinal(serverFirst: string): string {
    const attrs = new Map(serverFirst.split(',').map((kv) => [kv.slice(0, 1), kv.slice(2)] as const))
    const nonce = attrs.get('r') ?? ''
    const salt = Buffer.from(attrs.get('s') ?? '', 'base64')
    const iterations = Number(attrs.get('i'))
    if (
      !nonce.startsWith(this.#nonce) ||
      salt.length === 0 ||
      !Number.isInteger(iterations) ||
      iterations < 1
    ) {
      throw new UpstreamRefused('malformed SCRAM server-first message', undefined)
    }
    const salted = pbkdf2Sync(this.#password.normalize('NFKC'), salt, iterations, 32, 'sha256')
    const clientKey = hmac(salted, 'Client Key')
    const storedKey = createHash('sha256').update(clientKey).digest()
    const withoutProof = `c=biws,r=${nonce}`
    const authMessage = `${this.#bare()},${serverFirst},${withoutProof}`
    const signature = hmac(storedKey, authMessage)
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!))
    this.#serverSignature = hmac(hmac(salted, 'Server Key'), authMessage)
    return `${withoutProof},p=${proof.toString('base64')}`
  }

  verifyServerFinal(serverFinal: string): boolean {
    const v = /(?:^|,)v=([^,]*)/.exec(serverFinal)?.[1]
    if (v === undefined || this.#serverSignature === undefined) return false
    const got = Buffer.from(v, 'base64')
    return got.length === this.#serverSignature.length && timingSafeEqual(got, this.#serverSignature)
  }

  #bare(): string {
    return `n=*,r=${this.#nonce}`
  }
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest()
}
