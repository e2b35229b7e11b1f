import { TLSSocket } from 'node:tls'
import { type ConnectionAuth, RdsIamError } from '@rds-iam/core'
import { rememberError } from './error-recovery.js'

/** The parts of a mysql2 connection the plugin looks at (private fields of both 3.9 and 3.2x). */
interface Mysql2ConnectionInternals {
  config?: { debug?: unknown }
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

/**
 * mysql2's `authPlugins.mysql_clear_password`, which RDS switches every IAM login to. mysql2
 * calls it once per connection, inside the handshake.
 */
export function clearPasswordPlugin(auth: ConnectionAuth): PluginFactory {
  return ({ connection } = {}) =>
    async () => {
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
