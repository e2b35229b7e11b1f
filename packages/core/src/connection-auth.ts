import type { IamOptions } from './iam-options.js'
import { throttleNewConnection } from './rate-limit.js'
import { RdsIamError } from './rds-iam-error.js'
import { createTokenProvider, type TokenProvider } from './token-provider.js'

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
   * A current token for one new physical connection: waits for the per-endpoint limiter
   * (`maxNewConnectionsPerSecond`), then asks the shared provider. Call it once per connection.
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
 * const auth = createConnectionAuth({ host, port, user, password, iam }, { defaultPort: 5432, urlOption: 'connectionString' })
 * const config = { ...driverConfig, host: auth.hostname, port: auth.port, password: auth.nextToken }
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

  const provider = createTokenProvider({ hostname, port, username, ...iam })
  const endpointKey = `${iam.signingHostname ?? hostname}:${iam.signingPort ?? port}`
  const perSecond = iam.maxNewConnectionsPerSecond
  const nextToken = async (): Promise<string> => {
    await throttleNewConnection(endpointKey, perSecond)
    return provider.getToken()
  }
  return { hostname, port, username, provider, nextToken }
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
