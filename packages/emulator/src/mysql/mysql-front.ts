/**
 * The MySQL wire front of the emulator: speaks the connection phase the way RDS MySQL does for
 * a user `IDENTIFIED WITH AWSAuthenticationPlugin` and `REQUIRE SSL`, verifies the token through
 * the shared gate, logs in upstream and then relays bytes unchanged.
 */
import { randomInt } from 'node:crypto'
import type { Server, Socket } from 'node:net'
import { createSecureContext, TLSSocket } from 'node:tls'
import { endAfterFlush } from '../auth-gate.js'
import type { FrontContext, LoginVerdict } from '../internal-types.js'
import { createFrontServer, type LoginPhase } from '../login-phase.js'
import { ChannelClosedError, PacketChannel } from './mysql-channel.js'
import {
  Cap,
  capsAnd,
  capsOr,
  capsWithout,
  decodeHandshakeResponse,
  encodeAuthSwitchRequest,
  encodeGreeting,
  FRONT_TERMINATED_CAPS,
  type HandshakeResponse,
  isSslRequest,
  NEVER_OFFERED_CAPS,
  type ServerGreeting,
} from './mysql-handshake.js'
import { encodeErrPayload, encodePacket, MysqlProtocolError } from './mysql-packets.js'
import { MysqlUpstream, parseMysqlUpstreamUrl, UpstreamLoginError } from './mysql-upstream.js'

/** Tuning for tests; `startEmulator` uses the defaults. */
export interface MysqlFrontOptions {
  /** From accept until the client has sent its token; a client that is slower is dropped. */
  handshakeTimeoutMs?: number
  /** Connecting and logging in to the upstream server. */
  upstreamTimeoutMs?: number
}

const DEFAULTS = {
  handshakeTimeoutMs: 10_000,
  upstreamTimeoutMs: 10_000,
  /** Nothing before authentication is legitimately larger (a token with a session token is < 4 KB). */
  maxPreAuthPacket: 16 * 1024,
  /**
   * Bytes a client may send ahead of what the login has read, in any phase (while the token is
   * verified or the upstream login runs too); real clients send nothing ahead.
   */
  maxPreAuthBuffered: 64 * 1024,
}

const ER_ACCESS_DENIED_ERROR = 1045
const ER_UNKNOWN_ERROR = 1105
// RDS Proxy's own MySQL errors, from its troubleshooting guide
// (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.troubleshooting.html).
const ER_CON_COUNT_ERROR = 1040
const PROXY_REQUIRES_TLS = 3159
const PROXY_BORROW_TIMEOUT = 9501

/** Capabilities offered to clients: what the upstream honours, minus what the front cannot relay, plus what it terminates. */
export function offeredCapabilities(upstream: number): number {
  return capsOr(capsWithout(upstream, NEVER_OFFERED_CAPS | FRONT_TERMINATED_CAPS), FRONT_TERMINATED_CAPS)
}

/** MySQL's own scrambles are printable (33..126): some clients read the second part as a C string. */
function printableScramble(): Buffer {
  const b = Buffer.alloc(20)
  for (let i = 0; i < b.length; i++) b[i] = randomInt(33, 127)
  return b
}

/** `::ffff:127.0.0.1` → `127.0.0.1`, as MySQL reports IPv4 clients. */
function clientHost(socket: Socket): string {
  const addr = socket.remoteAddress ?? 'unknown'
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr
}

function accessDenied(user: string, host: string, usedPassword: boolean): Buffer {
  return encodeErrPayload(
    ER_ACCESS_DENIED_ERROR,
    '28000',
    `Access denied for user '${user}'@'${host}' (using password: ${usedPassword ? 'YES' : 'NO'})`,
  )
}

/** RDS Proxy reports the client host as `%` in its access-denied text (its guide's example). */
function proxyRefusal(
  verdict: Exclude<LoginVerdict, { ok: true }>,
  user: string,
  usedPassword: boolean,
): Buffer {
  if ('proxyRefusal' in verdict) {
    return verdict.proxyRefusal === 'borrow-timeout'
      ? encodeErrPayload(PROXY_BORROW_TIMEOUT, 'HY000', 'Timed-out waiting to acquire database connection')
      : encodeErrPayload(ER_CON_COUNT_ERROR, 'HY000', 'Number simultaneous connections exceeded (1000)')
  }
  if (verdict.reason === 'ThrottlingException') {
    return encodeErrPayload(ER_CON_COUNT_ERROR, 'HY000', 'IAM authentication rate limit exceeded')
  }
  return accessDenied(user, '%', usedPassword)
}

function stripNul(b: Buffer): Buffer {
  return b.length > 0 && b[b.length - 1] === 0 ? b.subarray(0, b.length - 1) : b
}

/**
 * Creates the MySQL front. `startEmulator({ engine: 'mysql' })` listens on it.
 *
 * Capabilities: the front learns the upstream's greeting once (lazily, on the first client) and
 * offers clients the upstream's capability flags minus compression and handshake-only features,
 * plus TLS and the auth-plugin flags it implements itself. The client's answer, intersected with
 * that offer, is what the front sends upstream, so both ends of the relay agree on the protocol.
 */
export function createMysqlFront(ctx: FrontContext, options: MysqlFrontOptions = {}): Server {
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs
  const proxy = ctx.flavor?.proxy === true
  const upstream = new MysqlUpstream(
    parseMysqlUpstreamUrl(ctx.upstream),
    options.upstreamTimeoutMs ?? DEFAULTS.upstreamTimeoutMs,
  )
  // Parsing the key and certificate once instead of per connection keeps TLS setup off the hot path.
  const secureContext = createSecureContext({ key: ctx.tls.key, cert: ctx.tls.cert })
  let nextConnectionId = 1

  const server = createFrontServer(
    { gate: ctx.gate, handshakeTimeoutMs, onClose: () => upstream.close() },
    (socket, phase) => serve(socket, phase, nextConnectionId++),
  )

  function serve(socket: Socket, phase: LoginPhase, connectionId: number): void {
    const host = clientHost(socket)
    let tls: TLSSocket | undefined
    let tlsUp = false
    let stage = 'greeting'

    const { finish, abort } = phase
    const limits = {
      maxBuffered: DEFAULTS.maxPreAuthBuffered,
      onOverflow: (err: MysqlProtocolError) => abort(err.kind, err.message),
    }
    /** Sends a final ERR packet and closes, as the server does after a failed login. */
    const refuse = (seq: number, payload: Buffer) => phase.refuse(tls ?? socket, encodePacket(seq, payload))
    socket.on('close', () => abort(stage === 'greeting' ? 'early-close' : 'disconnect'))

    const run = async () => {
      let profile: ServerGreeting
      try {
        profile = await upstream.profile()
      } catch (err) {
        if (phase.settled) return
        ctx.gate.log(`mysql: ${(err as Error).message}`)
        ctx.gate.protocolError('upstream')
        refuse(0, encodeErrPayload(ER_UNKNOWN_ERROR, 'HY000', `rds-iam emulator: ${(err as Error).message}`))
        return
      }
      if (phase.settled) return
      const offered = offeredCapabilities(profile.capabilities)
      const scramble = printableScramble()
      const plain = new PacketChannel(socket, DEFAULTS.maxPreAuthPacket, limits)
      plain.write(
        0,
        encodeGreeting({
          serverVersion: profile.serverVersion,
          connectionId,
          scramble,
          capabilities: offered,
          extendedCapabilities: profile.extendedCapabilities,
          charset: profile.charset,
          statusFlags: profile.statusFlags,
          authPluginName: 'mysql_native_password',
        }),
      )
      stage = 'handshake'
      const first = await plain.read()
      if (!isSslRequest(first.payload)) {
        // RDS: an IAM user is REQUIRE SSL, so a plaintext login is refused like a bad password.
        const response = decodeHandshakeResponse(first.payload)
        ctx.gate.log(`mysql: refused '${response.user}'@'${host}': no TLS (user requires SSL)`)
        ctx.gate.protocolError('no-tls')
        refuse(
          first.seq + 1,
          proxy
            ? encodeErrPayload(PROXY_REQUIRES_TLS, 'HY000', 'This RDS Proxy requires TLS connections.')
            : accessDenied(response.user, host, response.authResponse.length > 0),
        )
        return
      }
      stage = 'tls'
      const early = plain.detach()
      if (socket.readableEnded) throw new ChannelClosedError('client left after its SSLRequest')
      if (early.length > 0) socket.unshift(early)
      tls = new TLSSocket(socket, { isServer: true, secureContext })
      phase.useTls(tls)
      tls.on('error', () => abort(tlsUp ? 'disconnect' : 'tls'))
      tls.once('secure', () => {
        tlsUp = true
        stage = 'auth'
      })
      const secure = new PacketChannel(tls, DEFAULTS.maxPreAuthPacket, limits)
      const respPacket = await secure.read()
      const response = decodeHandshakeResponse(respPacket.payload)
      let seq = respPacket.seq + 1
      let token: Buffer
      if (response.authPluginName === 'mysql_clear_password' && response.authResponse.length > 0) {
        token = stripNul(response.authResponse)
      } else if (!(response.capabilities & Cap.PLUGIN_AUTH)) {
        ctx.gate.log(
          `mysql: refused '${response.user}'@'${host}': client cannot switch to mysql_clear_password`,
        )
        ctx.gate.protocolError('no-plugin-auth')
        refuse(seq, accessDenied(response.user, host, response.authResponse.length > 0))
        return
      } else {
        secure.write(
          seq,
          encodeAuthSwitchRequest('mysql_clear_password', Buffer.concat([scramble, Buffer.of(0)])),
        )
        const answer = await secure.read()
        token = stripNul(answer.payload)
        seq = answer.seq + 1
      }
      stage = 'verdict'
      // The client has said all it has to say; authorization (which may carry an injected
      // latency) and the upstream login are bounded on their own, as in the PostgreSQL front.
      phase.stopHandshakeTimer()
      const verdict = await ctx.gate.authorize({
        engine: 'mysql',
        user: response.user,
        ...(response.database ? { database: response.database } : {}),
        password: token.toString('utf8'),
        remoteAddress: host,
      })
      if (phase.settled) return
      if (!verdict.ok) {
        refuse(
          seq,
          proxy
            ? proxyRefusal(verdict, response.user, token.length > 0)
            : accessDenied(response.user, host, token.length > 0),
        )
        return
      }
      await startRelay(response, offered, seq, secure)
    }

    const startRelay = async (
      response: HandshakeResponse,
      offered: number,
      seq: number,
      secure: PacketChannel,
    ): Promise<void> => {
      stage = 'upstream'
      const client = tls as TLSSocket
      let session: Awaited<ReturnType<MysqlUpstream['login']>>
      try {
        session = await upstream.login({
          user: response.user,
          ...(response.database ? { database: response.database } : {}),
          relayCapabilities: capsWithout(
            capsAnd(response.capabilities, offered),
            FRONT_TERMINATED_CAPS | NEVER_OFFERED_CAPS | Cap.LONG_PASSWORD,
          ),
          extendedCapabilities: response.extendedCapabilities,
          clientMysqlFlag: (response.capabilities & Cap.LONG_PASSWORD) !== 0,
          charset: response.charset,
          maxPacketSize: response.maxPacketSize,
          ...(response.connectAttrs ? { connectAttrs: response.connectAttrs } : {}),
        })
      } catch (err) {
        if (phase.settled) return
        const e = err as Error
        ctx.gate.log(`mysql: upstream login for '${response.user}' failed: ${e.message}`)
        const serverError = err instanceof UpstreamLoginError ? err.serverError : undefined
        refuse(
          seq,
          serverError
            ? encodeErrPayload(serverError.code, serverError.sqlState ?? 'HY000', serverError.message)
            : encodeErrPayload(ER_UNKNOWN_ERROR, 'HY000', `rds-iam emulator: ${e.message}`),
        )
        return
      }
      const up = session.socket
      if (phase.settled) {
        up.destroy()
        return
      }
      // From here on the gate tracks the session; stop() ends it through dropConnections().
      finish()
      up.setNoDelay(true)
      const pipelined = secure.detach()
      // The upstream going away (even with a reset) must not discard its last packets, typically
      // the server's final error: the client side is ended after a flush, not destroyed.
      const upstreamGone = () => {
        up.destroy()
        endAfterFlush(client)
      }
      const clientGone = () => {
        client.destroy()
        up.destroy()
      }
      client.on('error', clientGone)
      client.on('close', clientGone)
      up.on('error', upstreamGone)
      up.on('close', upstreamGone)
      client.write(encodePacket(seq, session.okPayload))
      if (session.leftover.length > 0) client.write(session.leftover)
      if (pipelined.length > 0) up.write(pipelined)
      client.pipe(up)
      up.pipe(client)
      ctx.gate.track(client, up)
    }

    run().catch((err: unknown) => {
      if (phase.settled) return
      if (err instanceof MysqlProtocolError) abort(err.kind)
      else if (err instanceof ChannelClosedError) abort(stage === 'tls' ? 'tls' : 'disconnect')
      else {
        ctx.gate.log(`mysql: internal error: ${(err as Error).message}`)
        abort('internal')
      }
    })
  }

  return server
}
