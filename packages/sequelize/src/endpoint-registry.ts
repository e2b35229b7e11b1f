import {
  type ConnectionAuth,
  createConnectionAuth,
  type IamOptions,
  RdsIamError,
  resolveTls,
} from '@rds-iam/core'
import {
  clearPasswordPlugin,
  type IamAuthPlugin,
  PASSWORD_OPTIONS as MYSQL_PASSWORD_OPTIONS,
  withIam as withMysql2Iam,
} from '@rds-iam/mysql2'
import type { EndpointConfig } from './internal-types.js'
import { tunnelSocket } from './tunnel-socket.js'

/**
 * A Sequelize dialect IAM works with.
 *
 * @example
 * ```ts
 * const dialect: IamDialect = 'postgres'
 * ```
 */
export type IamDialect = 'postgres' | 'mysql'

/** One endpoint (host, port, user) of a Sequelize instance: its token source and driver options. */
export interface Endpoint {
  readonly key: string
  readonly auth: ConnectionAuth
  /** The `dialectOptions` this endpoint's connections use: the user's, with TLS settled (and the MySQL token plugin). */
  dialectOptionsFor(source: Record<string, unknown> | undefined): Record<string, unknown>
}

const DEFAULT_PORTS: Record<IamDialect, number> = { postgres: 5432, mysql: 3306 }

/** The fix for a missing user of an instance given to addIamHooks. */
export const ADD_HOOKS_USER_HINT =
  'set `username` to the IAM database user: in the options (`username`), in the URL (postgres://app_user@host/db) or as the second argument of new Sequelize(database, username, password, options)'

/** The fix for a missing user in options given to withIam, which cannot see the four-argument form's user. */
export const WITH_IAM_USER_HINT =
  'set `username` (the IAM database user) in the options given to withIam, or in its URL (postgres://app_user@host/db). With new Sequelize(database, username, password, options) the user is not in those options: there use addIamHooks(new Sequelize(database, username, null, options), iam) instead of withIam'

/**
 * Every endpoint one Sequelize instance connects to, each with its own token provider: the
 * top-level host, or the writer and every reader of `replication`. A token is signed for one
 * host:port:user, so a replica must never get the writer's token.
 */
export class EndpointRegistry {
  readonly #endpoints = new Map<string, Endpoint>()
  // Prepared dialectOptions → the user's object they were made from, so a config that already
  // carries one endpoint's options is re-prepared from the user's, never from another endpoint's.
  readonly #sources = new WeakMap<object, Record<string, unknown> | undefined>()

  /**
   * @param missingUserHint The fix named when an endpoint has no `username`: it depends on the
   *   entry point (withIam cannot see the user of `new Sequelize(db, user, pass, options)`).
   */
  constructor(
    readonly dialect: IamDialect,
    readonly iam: IamOptions,
    readonly missingUserHint: string = ADD_HOOKS_USER_HINT,
  ) {}

  /** The first endpoint registered: the writer (or the only host). */
  get primary(): Endpoint | undefined {
    return this.#endpoints.values().next().value
  }

  all(): Endpoint[] {
    return [...this.#endpoints.values()]
  }

  /** For `dialectOptions` this registry prepared: the user's own they were made from (for removeIamHooks). */
  sourceOf(prepared: unknown): { options: Record<string, unknown> | undefined } | undefined {
    if (!prepared || typeof prepared !== 'object' || !this.#sources.has(prepared)) return undefined
    return { options: this.#sources.get(prepared) }
  }

  /**
   * The endpoint for a connection config, built on first sight (so a config changed by the user's
   * own `beforeConnect` hook still gets a token for the host it now names). Bad values throw
   * `RDS_IAM_INVALID_OPTIONS` before anything is sent.
   */
  endpointFor(config: EndpointConfig): Endpoint {
    const port = config.port ?? DEFAULT_PORTS[this.dialect]
    const key = `${String(config.host ?? '').toLowerCase()}:${String(port)}:${String(config.username ?? '')}`
    const known = this.#endpoints.get(key)
    if (known) return known
    // Checked here, not left to core: core's hint names `user` (the pg/mysql2 option), while
    // Sequelize calls it `username`.
    if (typeof config.username !== 'string' || config.username === '') {
      throw invalid('no `username`: the IAM token is signed for a database user', this.missingUserHint)
    }
    const auth = createConnectionAuth(
      { host: config.host, port, user: config.username, iam: this.iam },
      {
        defaultPort: DEFAULT_PORTS[this.dialect],
        urlOption: 'the connection URL',
        engine: this.dialect,
      },
    )
    const prepared = new WeakMap<object, Record<string, unknown>>()
    let preparedForNone: Record<string, unknown> | undefined
    const dialectOptionsFor = (given: Record<string, unknown> | undefined): Record<string, unknown> => {
      const source = given && this.#sources.has(given) ? this.#sources.get(given) : given
      const cached = source ? prepared.get(source) : preparedForNone
      if (cached) return cached
      const out = this.#prepareDialectOptions(source, auth)
      this.#sources.set(out, source)
      if (source) prepared.set(source, out)
      else preparedForNone = out
      return out
    }
    const endpoint: Endpoint = { key, auth, dialectOptionsFor }
    this.#endpoints.set(key, endpoint)
    return endpoint
  }

  #prepareDialectOptions(
    source: Record<string, unknown> | undefined,
    auth: ConnectionAuth,
  ): Record<string, unknown> {
    const { ssl: userSsl, ...rest } = source ?? {}
    if (rest.native) {
      throw new RdsIamError(
        'RDS_IAM_UNSUPPORTED_DRIVER',
        'pg-native cannot use IAM authentication tokens',
        'remove `native` (and `dialectOptions.native`): libpq never asks for a per-connection password; the JavaScript pg driver does',
      )
    }
    if (this.dialect === 'mysql' && rest.debug) {
      throw invalid(
        '`dialectOptions.debug` makes mysql2 print every packet, the one carrying the IAM token included',
        'remove dialectOptions.debug (use Sequelize `logging` for SQL)',
      )
    }
    const out: Record<string, unknown> = { ...rest }
    if (this.dialect === 'mysql') {
      checkNoMysqlPassword(rest)
      // @rds-iam/mysql2 decides mysql2's TLS (its RDS bundle, identity checks, 'Amazon RDS') and
      // the socket; its token source is not used: the token comes from beforeConnect, per endpoint.
      const stream = rest.stream ?? tunnelSocket(auth.hostname, auth.port)
      const applied = withMysql2Iam({
        host: auth.hostname,
        port: auth.port,
        user: auth.username,
        ssl: withoutRequireKey(userSsl) as never,
        stream: stream as never,
        iam: this.iam,
      })
      if (applied.ssl !== undefined) out.ssl = applied.ssl
      // Through a tunnel (iam.signingHostname, connecting to e.g. 127.0.0.1) @rds-iam/mysql2 makes
      // mysql2's `host` the name on the RDS certificate, since mysql2 checks the certificate (and
      // sends SNI) against `host`; the TCP connection then goes to the tunnel end through `stream`.
      // Sequelize spreads dialectOptions over its own host, so both land in mysql2's config.
      const tunnelled = applied.host.toLowerCase() !== auth.hostname.toLowerCase()
      if (tunnelled) out.host = applied.host
      // For an IP host @rds-iam/mysql2 wraps the stream so that Node checks the certificate against
      // that IP (mysql2 ≥ 3.15.3 names no server for an IP, and Node then checked 'localhost').
      if (tunnelled || applied.stream !== stream) out.stream = applied.stream
      const plugins = rest.authPlugins
      if (plugins !== undefined && (plugins === null || typeof plugins !== 'object')) {
        throw invalid(
          '`dialectOptions.authPlugins` must be an object',
          'pass { name: plugin } or leave it out',
        )
      }
      // The name @rds-iam/mysql2 verifies (iam.signingHostname ?? host), or none when iam.insecure
      // turned verification off: its `host` is that name whenever TLS is on.
      const verified = applied.ssl?.rejectUnauthorized === true && applied.ssl.verifyIdentity === true
      const check = { expectedName: verified ? applied.host : undefined }
      out.authPlugins = {
        ...(plugins as object | undefined),
        mysql_clear_password: sendConfiguredPassword(auth, check),
      }
    } else {
      out.ssl = resolveTls(withoutRequireKey(userSsl), this.iam, { host: auth.hostname })
    }
    return out
  }
}

/**
 * Sequelize's own docs teach `dialectOptions: { ssl: { require: true } }`. `require` means nothing to
 * Node or the drivers, so it is dropped; an object without a `ca` gets the RDS bundle from core's
 * resolveTls (Node's default CAs do not include the RDS roots).
 */
function withoutRequireKey(userSsl: unknown): unknown {
  if (userSsl === null || typeof userSsl !== 'object' || Array.isArray(userSsl)) return userSsl
  const { require: _require, ...mine } = userSsl as Record<string, unknown>
  return mine
}

/**
 * mysql2's `mysql_clear_password` plugin for IAM logins: RDS switches every IAM login to it.
 * @rds-iam/mysql2's plugin checks the server first (chain verified, certificate naming
 * `check.expectedName`, resumed TLS sessions included) and sends nothing to one that fails; the
 * token it then sends is the password Sequelize put in this connection's config (the one
 * `beforeConnect` got for this endpoint), so the limiter permit and retry stay with this package.
 * mysql2 ≥ 3.22 refuses the switch unless a plugin like this one is given.
 */
function sendConfiguredPassword(
  auth: ConnectionAuth,
  check: Parameters<typeof clearPasswordPlugin>[1],
): IamAuthPlugin {
  return (args: { connection?: { config?: { password?: unknown } } } = {}) => {
    const configured: ConnectionAuth = {
      ...auth,
      nextToken: async () => {
        const password = args.connection?.config?.password
        if (typeof password !== 'string' || password === '') {
          throw new RdsIamError(
            'RDS_IAM_INVALID_OPTIONS',
            'the server asked for an IAM token but this connection has none',
            'create the Sequelize instance with withIam(options) or call addIamHooks(sequelize) before the first query',
          )
        }
        return password
      },
    }
    return clearPasswordPlugin(configured, check)(args as never)
  }
}

/**
 * Sequelize's mysql dialect spreads `dialectOptions` over its own `password`, so a password there
 * (or in the URL's query, which Sequelize and withIam put into dialectOptions) would replace the
 * token; mysql2 also logs in with `password1` (an alias) and the other factors.
 */
function checkNoMysqlPassword(dialectOptions: Record<string, unknown>): void {
  const key = MYSQL_PASSWORD_OPTIONS.find((k) => {
    const value = dialectOptions[k]
    return value !== undefined && value !== null && value !== ''
  })
  if (key === undefined) return
  throw invalid(
    `\`iam\` cannot be combined with \`dialectOptions.${key}\` (or ?${key}= in the connection URL): the IAM token is the password, and Sequelize would send this one instead`,
    `remove \`${key}\` from dialectOptions and from the URL's query, or remove \`iam\` to log in with a password`,
  )
}

export function invalid(message: string, hint: string): RdsIamError {
  return new RdsIamError('RDS_IAM_INVALID_OPTIONS', message, hint)
}
