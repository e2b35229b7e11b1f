import { checkServerIdentity, TLSSocket } from 'node:tls'
import { type ConnectionAuth, RdsIamError } from '@rds-iam/core'
import { rememberError } from './error-recovery.js'

/** The parts of a mysql2 connection the plugin looks at (private fields of both 3.9 and 3.2x). */
interface Mysql2ConnectionInternals {
  config?: {
    debug?: unknown
    host?: unknown
    ssl?: { rejectUnauthorized?: unknown; verifyIdentity?: unknown } | null
  }
  stream?: NodeJS.EventEmitter & { destroyed?: boolean; _parent?: unknown }
  _closing?: boolean
  _fatalError?: unknown
  _protocolError?: unknown
  _internalId?: number
  connectionId?: number
  _command?: { _commandName?: string; stateName?(): string }
  writePacket?(packet: { _name?: string; length(): number }): void
}

type PluginFactory = (args?: { connection?: Mysql2ConnectionInternals }) => () => Promise<Buffer | undefined>

const PLUGIN_ERROR = Symbol('rds-iam plugin error')

/** What the plugin checks before the token leaves. */
export interface ServerCheck {
  /**
   * The name the server's certificate must carry (`iam.signingHostname ?? host`; an IP is matched
   * against the certificate's IP addresses), or `undefined` when `iam.insecure` let the
   * connection go without verified TLS.
   */
  expectedName: string | undefined
}

/**
 * mysql2's `authPlugins.mysql_clear_password`, which RDS switches every IAM login to. mysql2
 * calls it once per connection, inside the handshake, after TLS is up; the token leaves only
 * once {@link verifyServer} accepted the server.
 *
 * Exported for `@rds-iam/sequelize`, whose mysql dialect sends the token `beforeConnect` got
 * through this same check; not part of the supported API (it may change in any release).
 */
export function clearPasswordPlugin(auth: ConnectionAuth, check: ServerCheck): PluginFactory {
  return ({ connection } = {}) =>
    async () => {
      // Before anything else: a server that fails the check gets no token, and the caller a typed
      // error whatever the credential source does.
      if (check.expectedName !== undefined) {
        const refusal = verifyServer(connection, check.expectedName)
        if (refusal) throw wrapPluginError(refusal)
      }
      const unwatch = watchForHangup(connection)
      let token: string
      try {
        token = await auth.nextToken()
      } catch (err) {
        // The server may have closed the handshake while the token was awaited: the caller already
        // has that error, and mysql2 would emit this late one as a second 'error' event that no
        // one listens to (a pool connection listens `once`), which crashes the process.
        if (gone(connection)) return undefined
        throw wrapPluginError(err)
      } finally {
        unwatch()
      }
      if (gone(connection)) return undefined
      if (connection?.config?.debug) hideNextPacketFromDebug(connection)
      return Buffer.from(`${token}\0`)
    }
}

/**
 * Whether the server may have the token. mysql2 ≥ 3.15.3 gives Node no TLS server name when
 * `host` is an IP, and Node then checks the certificate against the socket's `_host` (null after
 * an IP connect) or else 'localhost': a trusted certificate for localhost passed for 127.0.0.1.
 * So the plugin checks the server itself, whatever mysql2 and Node did: on a full TLS handshake,
 * the chain was verified and `tls.checkServerIdentity` accepts the certificate for
 * `expectedName` (an IP against the certificate's IP addresses).
 *
 * Two cases leave no certificate to look at, and there the check is that mysql2 was set to
 * verify exactly `expectedName` (chain, `verifyIdentity`, and `host` = that name):
 * - a resumed TLS session (mysql2 ≥ 3.24 caches sessions per `ssl` object and host:port): it
 *   resumes a full handshake of this same config, which Node accepted only for a certificate
 *   naming that host, since rds-iam makes Node check the right name for IP hosts too (the
 *   socket's `_host`, see tlsNameForNode in prepared-socket.ts); mysql2 caches a session only after
 *   that check passed.
 * - mysql2 < 3.14.4, which keeps the TCP socket as `connection.stream` and its TLS socket only in
 *   a closure. Those versions always name `config.host` to Node as the server name and check it
 *   themselves with `ssl.verifyIdentity` (the IP skip came in 3.15.3, after `stream` became the
 *   TLS socket in 3.14.4).
 */
function verifyServer(
  connection: Mysql2ConnectionInternals | undefined,
  expectedName: string,
): RdsIamError | undefined {
  const stream = connection?.stream
  if (stream instanceof TLSSocket) {
    if (!stream.authorized) {
      return untrusted(
        expectedName,
        `the TLS certificate chain of the server was not verified (${String(stream.authorizationError ?? 'no verification result')})`,
      )
    }
    if (!stream.isSessionReused()) {
      const mismatch = checkServerIdentity(expectedName, stream.getPeerCertificate(true))
      return mismatch
        ? untrusted(expectedName, `the server's TLS certificate does not name ${expectedName}`, mismatch)
        : undefined
    }
  }
  const config = connection?.config
  const ssl = config?.ssl
  const host = typeof config?.host === 'string' ? config.host.replace(/\.$/, '').toLowerCase() : undefined
  if (
    ssl?.rejectUnauthorized === true &&
    ssl.verifyIdentity === true &&
    host === expectedName.toLowerCase()
  ) {
    return undefined
  }
  return untrusted(
    expectedName,
    `mysql2 was not set to verify that the server is ${expectedName} (its host or TLS settings were changed after rds-iam prepared them)`,
  )
}

function untrusted(expectedName: string, message: string, cause?: Error): RdsIamError {
  return new RdsIamError(
    'RDS_IAM_INSECURE_TRANSPORT',
    `${message}: the IAM token was not sent`,
    `connect to the name on the server's certificate: the RDS endpoint by its DNS name, or, through a tunnel or proxy at an IP address, set iam.signingHostname to the endpoint (the certificate is then checked against it instead of ${expectedName}); a chain that is not trusted needs its CA in ssl.ca (default: the RDS CA bundle). For local testing only, set iam: { insecure: true }`,
    cause ? { cause } : undefined,
  )
}

function gone(connection: Mysql2ConnectionInternals | undefined): boolean {
  if (!connection) return false
  return Boolean(
    connection._closing ||
      connection._fatalError ||
      connection._protocolError ||
      connection.stream?.destroyed,
  )
}

/**
 * While the token is awaited, a server hang-up is reported as what it is, RDS_IAM_CREDENTIALS
 * (the token was not ready before the server gave up, e.g. MySQL's `connect_timeout`), instead of
 * mysql2's bare "Connection lost". mysql2 reports `_protocolError` from its own 'close' listener
 * on the TCP socket, so ours goes in front of it there.
 */
function watchForHangup(connection: Mysql2ConnectionInternals | undefined): () => void {
  let socket = connection?.stream
  // mysql2 3.2x replaces `stream` by the TLS socket; its 'close' listener stays on the TCP one.
  const parent = socket instanceof TLSSocket ? (socket as { _parent?: unknown })._parent : undefined
  if (isEmitter(parent)) socket = parent
  if (!connection || !socket || typeof socket.prependOnceListener !== 'function') return () => {}
  const onClose = () => {
    if (connection._closing || connection._protocolError) return
    connection._protocolError = rememberError(
      new RdsIamError(
        'RDS_IAM_CREDENTIALS',
        'the server closed the connection before the IAM token was ready',
        'the credential source (IMDS, ECS, SSO, STS or your provider) answered slower than the server waits for a login (MySQL connect_timeout, 10 s by default); fix or speed up the credential source. createPool / createConnection of @rds-iam/mysql2 fetch the token before connecting, so this only happens with your own `stream` or after a token was invalidated',
      ),
    )
  }
  socket.prependOnceListener('close', onClose)
  return () => socket.removeListener('close', onClose)
}

function isEmitter(value: unknown): value is NodeJS.EventEmitter {
  return typeof (value as { prependOnceListener?: unknown })?.prependOnceListener === 'function'
}

/**
 * `debug: true` makes mysql2 print every packet it writes as hex, and the next one carries the
 * token. It is written right after this plugin resolves, so for that one packet the dump is
 * replaced by a line saying what was left out.
 */
function hideNextPacketFromDebug(connection: Mysql2ConnectionInternals): void {
  const original = connection.writePacket
  if (typeof original !== 'function') return
  const own = Object.getOwnPropertyDescriptor(connection, 'writePacket')
  connection.writePacket = function (this: Mysql2ConnectionInternals, packet) {
    if (own) Object.defineProperty(connection, 'writePacket', own)
    else delete connection.writePacket
    const config = this.config ?? {}
    const debug = config.debug
    const command = this._command
    // Mirrors mysql2's own debug output, which the user turned on.
    console.log(
      `${this._internalId} ${this.connectionId} <== ${command?._commandName}#${command?.stateName?.()}(${packet._name},${packet.length()}) [rds-iam: not dumped, it carries the IAM token]`,
    )
    config.debug = false
    try {
      return original.call(this, packet)
    } finally {
      config.debug = debug
    }
  }
}

function wrapPluginError(err: unknown): Error {
  const wrapper = new Error(err instanceof Error ? err.message : String(err), { cause: err })
  Object.defineProperty(wrapper, PLUGIN_ERROR, { value: err })
  return rememberError(wrapper)
}

/** The error the plugin threw (e.g. an `RdsIamError` for credentials), if `err` wraps one. */
export function pluginErrorOf(err: unknown): unknown {
  if (err && typeof err === 'object' && PLUGIN_ERROR in err)
    return (err as Record<symbol, unknown>)[PLUGIN_ERROR]
  return undefined
}
