import type { IamOptions } from './iam-options.js'
import { throttleNewConnection } from './rate-limit.js'
import { RdsIamError } from './rds-iam-error.js'
import { createTokenProvider, type DatabaseEngine, type TokenProvider } from './token-provider.js'

/** A permit banked by prepare() is good for this long; an idle pool must not save up a burst. */
const PERMIT_TTL_MS = 1000

/** Where a driver connects and as whom, as read from its config (values not yet checked). */
export interface ConnectionAuthInput {
  host: unknown
  port: unknown
  user: unknown
  /** The driver config's own password: must be empty, since the token is the password. */
  password?: unknown
  iam: IamOptions
}

/** How the adapter names things in its errors, so each message points at the driver's own option. */
export interface ConnectionAuthContext {
  /** The engine the driver talks to, so hints name only its commands (pg: `'postgres'`, mysql2: `'mysql'`). */
  engine?: DatabaseEngine
  /** The driver's default port, used when the config names none (5432, 3306). */
  defaultPort: number
  /** The driver's URL option (`connectionString`, `uri`), named in the fix for a missing host or a password in it. */
  urlOption: string
}

/** A checked endpoint and user with the token provider for them; what every adapter builds on. */
export interface ConnectionAuth {
  hostname: string
  port: number
  username: string
  provider: TokenProvider
  /**
   * Call before a new physical connection's socket opens. Waits for the per-endpoint limiter
   * (`maxNewConnectionsPerSecond`) and banks that permit, then warms the token cache, so a hung or
   * failing credential source fails the caller here (`RDS_IAM_CREDENTIALS` within
   * `iam.credentialTimeoutMs`) and no server ever holds a half-open login waiting for a token.
   * A banked permit is used by the next {@link ConnectionAuth.nextToken} and expires after ~1 s.
   */
  prepare(): Promise<void>
  /**
   * A current token for one new physical connection (the driver's password hook, called inside
   * the handshake): uses a permit banked by {@link ConnectionAuth.prepare} or else waits for the
   * limiter, then asks the shared provider (a cache hit after `prepare()`). Call it once per connection.
   */
  nextToken(): Promise<string>
}

/**
 * Checks the endpoint, user and password of a driver config that has `iam`, and builds the token
 * provider and the per-connection token function for it. Every problem is an
 * `RDS_IAM_INVALID_OPTIONS` that names the driver's own option, raised before any network traffic.
 *
 * @example
 * ```ts
 * const auth = createConnectionAuth({ host, port, user, password, iam }, { defaultPort: 5432, urlOption: 'connectionString', engine: 'postgres' })
 * const config = { ...driverConfig, host: auth.hostname, port: auth.port, password: auth.nextToken }
 * await auth.prepare() // before the driver opens its socket
 * ```
 */
export function createConnectionAuth(
  input: ConnectionAuthInput,
  context: ConnectionAuthContext,
): ConnectionAuth {
  const { iam } = input
  if (input.password !== undefined && input.password !== null && input.password !== '') {
    throw invalid(
      '`iam` cannot be combined with `password`: the IAM token is the password',
      `remove \`password\` (and any password in \`${context.urlOption}\`), or remove \`iam\` to log in with a password`,
    )
  }
  const hostname = input.host
  if (typeof hostname !== 'string' || hostname === '') {
    throw invalid(
      'no host to connect to',
      `set \`host\` (the RDS/Aurora endpoint) or a \`${context.urlOption}\` with a host`,
    )
  }
  if (hostname.startsWith('/')) {
    throw invalid(
      `host "${hostname}" is a Unix socket; IAM tokens need a TCP endpoint`,
      'set `host` to the RDS endpoint name',
    )
  }
  const port = toPort(input.port ?? context.defaultPort, context.defaultPort)
  const username = input.user
  if (typeof username !== 'string' || username === '') {
    throw invalid('no user: the token is signed for a database user', 'set `user` to the IAM database user')
  }

  const provider = createTokenProvider({ hostname, port, username, engine: context.engine, ...iam })
  const endpointKey = `${iam.signingHostname ?? hostname}:${iam.signingPort ?? port}`
  const perSecond = iam.maxNewConnectionsPerSecond
  // Expiry instants of permits taken by prepare() and not yet used, oldest first. Each one stands
  // for a prepare() call whose connection has not asked for its token yet, so the bank can never
  // hold more permits than callers about to connect.
  const banked: number[] = []
  const dropExpired = (): void => {
    const t = performance.now()
    while (banked.length > 0 && banked[0]! <= t) banked.shift()
  }
  const prepare = async (): Promise<void> => {
    await throttleNewConnection(endpointKey, perSecond)
    const permit = performance.now() + PERMIT_TTL_MS
    banked.push(permit)
    try {
      await provider.getToken()
    } catch (err) {
      // This caller will not connect: its permit must not let another connection skip the limiter.
      const at = banked.indexOf(permit)
      if (at !== -1) banked.splice(at, 1)
      throw err
    }
  }
  const nextToken = async (): Promise<string> => {
    dropExpired()
    if (banked.length > 0) banked.shift()
    else await throttleNewConnection(endpointKey, perSecond)
    return provider.getToken()
  }
  return { hostname, port, username, provider, prepare, nextToken }
}

/** Accepts a port number or a numeric string (drivers take both). */
function toPort(value: unknown, example: number): number {
  const port = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(
      `port ${JSON.stringify(value)} is not a TCP port`,
      `set \`port\` to a number such as ${example}`,
    )
  }
  return port
}

function invalid(message: string, hint: string): RdsIamError {
  return new RdsIamError('RDS_IAM_INVALID_OPTIONS', message, hint)
}
