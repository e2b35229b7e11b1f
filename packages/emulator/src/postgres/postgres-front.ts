import { randomBytes } from 'node:crypto'
import { connect, type Server, type Socket } from 'node:net'
import { Duplex } from 'node:stream'
import { createSecureContext, TLSSocket } from 'node:tls'
import { serialize } from 'pg-protocol'
import { quote } from '../auth-gate.js'
import type { FrontContext, FrontFlavor, LoginVerdict } from '../internal-types.js'
import { createFrontServer, type LoginPhase } from '../login-phase.js'
import { HandshakeError, PacketReader } from './packet-reader.js'
import {
  authenticationCleartextPassword,
  backendKeyData,
  CANCEL_REQUEST_CODE,
  errorResponse,
  GSSENC_REQUEST_CODE,
  negotiateProtocolVersion,
  PROTOCOL_MAJOR_3,
  parsePasswordMessage,
  parseStartupPacket,
  SSL_REQUEST_CODE,
} from './postgres-messages.js'
import { openPostgresUpstream, parsePostgresUpstreamUrl, type UpstreamRefused } from './postgres-upstream.js'

/** Tunables of the PostgreSQL front (tests shorten them). */
export interface PostgresFrontOptions {
  /** From accept to the password message (authorization itself excluded); default 10 s. */
  handshakeTimeoutMs?: number
  /** Upstream connect and login; default 10 s. */
  upstreamTimeoutMs?: number
}

const DEFAULTS = {
  handshakeTimeoutMs: 10_000,
  upstreamTimeoutMs: 10_000,
  /** Before authentication no packet needs more: a token with a session token is ~2–3 KB. */
  maxPreAuthPacket: 10_240,
  /**
   * Bytes a client may send ahead of what the login has read, in any phase (while the token is
   * verified or the upstream login runs too). Real clients send nothing ahead; the bound keeps a
   * flooding client from growing the emulator's memory.
   */
  maxPreAuthBuffered: 64 * 1024,
} as const

const PASSWORD_MESSAGE = 0x70 // 'p'
/** First byte of a TLS handshake record: a client using PostgreSQL 17's `sslnegotiation=direct`. */
const TLS_HANDSHAKE_RECORD = 0x16
const BACKEND_KEY_DATA = 0x4b // 'K'
const noop = (): void => {}

interface UpstreamKey {
  processId: number
  secretKey: number
}

/**
 * Creates the PostgreSQL front, the way RDS presents an IAM user: TLS required
 * (`hostssl … pam`), `AuthenticationCleartextPassword`, the token verified by the gate, then the
 * session relayed byte for byte to the upstream logged in as the mapped user. Failures carry
 * RDS's exact SQLSTATE and message; the reason goes to the log only.
 */
export function createPostgresFront(ctx: FrontContext, options: PostgresFrontOptions = {}): Server {
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? DEFAULTS.upstreamTimeoutMs
  const target = parsePostgresUpstreamUrl(ctx.upstream)
  const secureContext = createSecureContext({ key: ctx.tls.key, cert: ctx.tls.cert })
  const { gate } = ctx
  const flavor: FrontFlavor = ctx.flavor ?? { service: 'rds', proxy: false }
  /** Emulator-issued BackendKeyData → the upstream's, so CancelRequests reach the right backend. */
  const cancelKeys = new Map<string, UpstreamKey>()

  const server = createFrontServer(
    { gate, handshakeTimeoutMs, timeoutDetail: `no login within ${handshakeTimeoutMs} ms` },
    (socket, phase) => void serve(socket, phase),
  )

  async function serve(socket: Socket, phase: LoginPhase): Promise<void> {
    const host = clientHost(socket)
    let stream: Socket = socket
    let tls: TLSSocket | undefined
    const { finish, abort } = phase
    const limits = {
      maxBuffered: DEFAULTS.maxPreAuthBuffered,
      onOverflow: (err: HandshakeError) => abort(err.kind, err.message),
    }
    let reader = new PacketReader(socket, limits)
    /** Sends a final ErrorResponse and closes, as the postmaster does after a refused login. */
    const refuse = (frame: Buffer): void => phase.refuse(stream, frame)

    try {
      if ((await reader.peek()) === TLS_HANDSHAKE_RECORD) {
        // Direct TLS (no SSLRequest): the ClientHello is already read, so TLS runs over a stream
        // that replays it. PostgreSQL 17 requires ALPN "postgresql" here; so does the emulator.
        tls = await upgradeToTls(replaying(socket, reader.detach()), secureContext, true)
        phase.useTls(tls)
        stream = tls
        reader = new PacketReader(tls, limits)
      }
      let packet = parseStartupPacket(await reader.untyped(DEFAULTS.maxPreAuthPacket))
      for (;;) {
        if (packet === undefined) throw new HandshakeError('malformed-startup', 'malformed startup packet')
        if (packet.code === GSSENC_REQUEST_CODE && tls === undefined) {
          // RDS has no GSSAPI encryption; 'N' makes libpq fall back to its SSLRequest.
          socket.write('N')
        } else if (packet.code === SSL_REQUEST_CODE && tls === undefined) {
          // Bytes after SSLRequest and before 'S' would be unencrypted data the client could not
          // have meant (CVE-2021-23214); PostgreSQL refuses them, so does the emulator.
          if (reader.buffered > 0)
            throw new HandshakeError('data-after-sslrequest', 'unencrypted data after SSLRequest')
          reader.detach()
          socket.write('S')
          tls = await upgradeToTls(socket, secureContext)
          phase.useTls(tls)
          stream = tls
          reader = new PacketReader(tls, limits)
        } else if (packet.code === CANCEL_REQUEST_CODE) {
          const body = packet.body
          finish()
          if (body.length === 12) forwardCancel(body.readInt32BE(4), body.readInt32BE(8))
          stream.destroy()
          return
        } else {
          break
        }
        if (phase.settled) return
        packet = parseStartupPacket(await reader.untyped(DEFAULTS.maxPreAuthPacket))
      }

      const major = packet.code >>> 16
      if (major !== PROTOCOL_MAJOR_3) {
        gate.protocolError(`unsupported protocol ${major}.${packet.code & 0xffff}`)
        return refuse(
          errorResponse({
            severity: 'FATAL',
            code: '0A000',
            message: `unsupported frontend protocol ${major}.${packet.code & 0xffff}: server supports 3.0 to 3.0`,
            file: 'postmaster.c',
            routine: 'ProcessStartupPacket',
          }),
        )
      }
      const params = new Map(packet.params)
      const user = params.get('user')
      if (user === undefined || user === '') {
        gate.protocolError('no user in startup packet')
        return refuse(
          errorResponse({
            severity: 'FATAL',
            code: '28000',
            message: 'no PostgreSQL user name specified in startup packet',
            file: 'postmaster.c',
            routine: 'ProcessStartupPacket',
          }),
        )
      }
      const database = params.get('database') || user

      if (tls === undefined) {
        const frame = noTlsRefusal(flavor, host, user, database)
        gate.log(`postgres: refused ${quote(user)} from ${host}: no TLS`)
        gate.protocolError('no-tls')
        return refuse(frame)
      }

      const protocolOptions = packet.params.map(([k]) => k).filter((k) => k.startsWith('_pq_.'))
      if ((packet.code & 0xffff) !== 0 || protocolOptions.length > 0) {
        stream.write(negotiateProtocolVersion(protocolOptions))
      }
      stream.write(authenticationCleartextPassword())
      let reply: Awaited<ReturnType<PacketReader['typed']>>
      try {
        reply = await reader.typed(DEFAULTS.maxPreAuthPacket)
      } catch (err) {
        if (!(err instanceof HandshakeError) || err.kind !== 'bad-length') throw err
        // PostgreSQL only logs this (COMMERROR) and hangs up, which leaves the user guessing; a
        // token that long is a client bug worth naming, so the client is told why.
        gate.protocolError(`password message too long (${err.message})`)
        return refuse(
          errorResponse({
            severity: 'FATAL',
            code: '08P01',
            message: 'invalid message length',
            detail: `The password message is over ${DEFAULTS.maxPreAuthPacket} bytes; an IAM token is 1 to 4 KB.`,
            file: 'pqcomm.c',
            routine: 'pq_getmessage',
          }),
        )
      }
      // recv_password_packet's three checks, in its order and with its texts (PostgreSQL >= 10):
      // the message type, then the body being exactly one NUL-terminated string, then non-empty
      // (checked before PAM, which RDS's IAM login is, ever sees it).
      const passwordError = (kind: string, code: string, message: string): void => {
        gate.protocolError(kind)
        refuse(
          errorResponse({
            severity: 'FATAL',
            code,
            message,
            file: 'auth.c',
            routine: 'recv_password_packet',
          }),
        )
      }
      if (reply.type !== PASSWORD_MESSAGE) {
        return passwordError(
          'expected password message',
          '08P01',
          `expected password response, got message type ${reply.type}`,
        )
      }
      const password = parsePasswordMessage(reply.body)
      if (password === undefined) {
        return passwordError('malformed password message', '08P01', 'invalid password packet size')
      }
      if (password === '') {
        return passwordError('empty password', '28P01', 'empty password returned by client')
      }

      // Authorization (with its latency fault) and the upstream login have their own clocks.
      phase.stopHandshakeTimer()
      const verdict = await gate.authorize({
        engine: 'postgres',
        user,
        database,
        password,
        remoteAddress: host,
      })
      if (stream.destroyed) return finish()
      if (!verdict.ok) return refuse(loginRefusal(flavor, verdict, user))

      const upstreamParams: [string, string][] = [
        ['user', target.user ?? user],
        ['database', upstreamDatabase(database, user, target.database)],
        ...packet.params.filter(([k]) => k !== 'user' && k !== 'database' && !k.startsWith('_pq_.')),
      ]
      let session: Awaited<ReturnType<typeof openPostgresUpstream>>
      try {
        session = await openPostgresUpstream(target, upstreamParams, upstreamTimeoutMs)
      } catch (err) {
        const refused = err as UpstreamRefused
        gate.log(`postgres: session for ${quote(user)} not opened: ${refused.message}`)
        return refuse(
          refused.frame ??
            errorResponse({
              severity: 'FATAL',
              code: '08006',
              message: `rds-iam emulator: ${refused.message}`,
            }),
        )
      }
      const up = session.socket
      up.on('error', noop)
      if (stream.destroyed) {
        up.destroy()
        return finish()
      }

      let issuedKey: string | undefined
      const replay = session.frames.map(({ type, raw, message }) => {
        if (type !== BACKEND_KEY_DATA) return raw
        // Clients cancel with the key they were given; keep the upstream's private and map it.
        const upstreamKey = message as unknown as { processID: number; secretKey: number }
        const processId = randomBytes(4).readUInt32BE(0) & 0x7fffffff || 1
        const secretKey = randomBytes(4).readInt32BE(0)
        issuedKey = `${processId}:${secretKey}`
        cancelKeys.set(issuedKey, { processId: upstreamKey.processID, secretKey: upstreamKey.secretKey })
        return backendKeyData(processId, secretKey)
      })
      const leftover = reader.detach()
      finish()
      gate.track(stream, up)
      stream.once('close', () => {
        if (issuedKey !== undefined) cancelKeys.delete(issuedKey)
      })
      stream.write(Buffer.concat([...replay, session.leftover]))
      if (leftover.length > 0) up.write(leftover)
      stream.pipe(up)
      up.pipe(stream)
    } catch (err) {
      const e = err as Error
      abort(e instanceof HandshakeError ? e.kind : 'internal', e.message)
    }
  }

  function forwardCancel(processId: number, secretKey: number): void {
    const key = cancelKeys.get(`${processId}:${secretKey}`)
    // PostgreSQL answers no CancelRequest, valid or not, so an unknown key is silently dropped.
    if (key === undefined) return
    const s = connect({ host: target.host, port: target.port, noDelay: true })
    s.on('error', noop)
    s.setTimeout(upstreamTimeoutMs, () => s.destroy())
    s.once('connect', () => s.end(serialize.cancel(key.processId, key.secretKey)))
  }

  return server
}

/**
 * The refusal of a login without TLS. RDS: its pg_hba line (`hostssl all +rds_iam all pam`).
 * RDS Proxy: the text its troubleshooting guide documents for IAM without TLS. DSQL: documented
 * only as "connections without SSL are rejected"; the text here is the emulator's own and says so.
 * Neither AWS page documents a SQLSTATE: 28000 (class 28, like RDS) is the emulator's choice.
 */
function noTlsRefusal(flavor: FrontFlavor, host: string, user: string, database: string): Buffer {
  const message = flavor.proxy
    ? 'IAM authentication is allowed only with SSL connections.'
    : flavor.service === 'dsql'
      ? 'Aurora DSQL accepts TLS connections only (rds-iam emulator wording: the real text is not documented)'
      : `pg_hba.conf rejects connection for host "${host}", user "${user}", database "${database}", no encryption`
  return errorResponse({
    severity: 'FATAL',
    code: '28000',
    message,
    ...(flavor.proxy || flavor.service === 'dsql' ? {} : { file: 'auth.c', routine: 'ClientAuthentication' }),
  })
}

/**
 * The refusal of a login the gate did not accept. RDS answers every bad token with the same PAM
 * text (the reason goes to its log). RDS Proxy and DSQL texts are the ones their troubleshooting
 * guides document (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.troubleshooting.html,
 * https://docs.aws.amazon.com/aurora-dsql/latest/userguide/troubleshooting.html); their SQLSTATEs
 * are not documented, so the emulator keeps class 28 (28000) for token refusals and uses 53300
 * (too_many_connections) for the proxy's capacity refusals.
 */
function loginRefusal(
  flavor: FrontFlavor,
  verdict: Exclude<LoginVerdict, { ok: true }>,
  user: string,
): Buffer {
  if ('proxyRefusal' in verdict) {
    return errorResponse({
      severity: 'FATAL',
      code: '53300',
      message:
        verdict.proxyRefusal === 'borrow-timeout'
          ? 'Timed-out waiting to acquire database connection.'
          : 'The maximum number of client connections to the proxy exceeded 1000.',
    })
  }
  let message: string
  if (flavor.proxy) {
    message =
      verdict.reason === 'ThrottlingException'
        ? 'The IAM authentication failed because of too many competing requests.'
        : `IAM authentication failed for user ${user}. Check the IAM token for this user and try again.`
  } else if (flavor.service === 'dsql') {
    message = `IAM authentication failed for user "${user}"`
  } else {
    return errorResponse({
      severity: 'FATAL',
      code: '28000',
      message: `PAM authentication failed for user "${user}"`,
      file: 'auth.c',
      routine: 'auth_failed',
    })
  }
  return errorResponse({ severity: 'FATAL', code: '28000', message })
}

function upgradeToTls(
  socket: Duplex,
  secureContext: ReturnType<typeof createSecureContext>,
  direct = false,
): Promise<TLSSocket> {
  const tls = new TLSSocket(socket as Socket, {
    isServer: true,
    secureContext,
    ...(direct ? { ALPNProtocols: ['postgresql'] } : {}),
  })
  tls.on('error', noop)
  return new Promise((resolve, reject) => {
    tls.once('secure', () => {
      if (direct && tls.alpnProtocol !== 'postgresql') {
        tls.destroy()
        reject(new HandshakeError('tls', 'direct TLS without ALPN "postgresql"'))
      } else {
        resolve(tls)
      }
    })
    tls.once('error', (err) => reject(new HandshakeError('tls', err.message)))
    tls.once('close', () => reject(new HandshakeError('tls', 'connection closed during TLS handshake')))
  })
}

/** A duplex over `socket` that first yields `head` (bytes already read from it). */
function replaying(socket: Socket, head: Buffer): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume()
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback)
    },
    final(callback) {
      socket.end(callback)
    },
    destroy(err, callback) {
      socket.destroy()
      callback(err)
    },
  })
  duplex.on('error', noop)
  duplex.push(head)
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause()
  })
  socket.once('end', () => duplex.push(null))
  socket.once('close', () => duplex.destroy())
  return duplex
}

/**
 * The database a session opens upstream. libpq and pg send the user name when the client names
 * no database, so that value cannot tell "named" from "defaulted": both mean the upstream URL's
 * database when it has one. Any other name the client chose is kept (several databases behind
 * one emulator keep working).
 */
export function upstreamDatabase(requested: string, user: string, urlDatabase: string | undefined): string {
  return urlDatabase !== undefined && requested === user ? urlDatabase : requested
}

function clientHost(socket: Socket): string {
  const address = socket.remoteAddress ?? 'unknown'
  return address.startsWith('::ffff:') ? address.slice(7) : address
}
