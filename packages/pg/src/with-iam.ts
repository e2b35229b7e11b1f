import {
  createConnectionAuth,
  type IamOption,
  type IamOptions,
  normalizeIamOptions,
  RdsIamError,
  resolveTls,
  type TokenProvider,
  unsupportedDriver,
} from '@rds-iam/core'
import { parseConnectionString } from './connection-string.js'
import type { PreparedIam } from './internal-types.js'

/**
 * A pg `Client`/`Pool` config with `iam` added. Everything else is pg's own config, passed
 * through unchanged (except `password`, `ssl` and `connectionString`, which `iam` settles).
 */
export interface IamPgConfig {
  /** `true` for defaults, or {@link IamOptions}. Omitted in `withIam` means `true`. */
  iam?: IamOption
  host?: string
  port?: number
  user?: string
  database?: string
  connectionString?: string
  ssl?: boolean | import('node:tls').ConnectionOptions
}

// On globalThis under a registered symbol, so the ESM and CommonJS builds of this package loaded
// in one process answer getTokenProvider() for each other's pools and configs.
const REGISTRY = Symbol.for('rds-iam.pg.providers.v1')
const holder = globalThis as typeof globalThis & { [REGISTRY]?: WeakMap<object, TokenProvider> }
holder[REGISTRY] ??= new WeakMap<object, TokenProvider>()
const providers: WeakMap<object, TokenProvider> = holder[REGISTRY]

/** @internal Remembers which provider serves a config, pool or client (see {@link getTokenProvider}). */
export function rememberProvider(target: object, provider: TokenProvider): void {
  providers.set(target, provider)
}

/**
 * The token provider behind a config returned by {@link withIam}, a `pg.Pool` built from one
 * (`new pg.Pool(withIam(cfg))`: pg copies the config, so the pool is recognised by the password
 * function it carries), or a `Pool` / `Client` of this package. Useful for metrics (`stats()`)
 * and to `invalidate()` after an out-of-band failure.
 *
 * @example
 * ```ts
 * const pool = new Pool({ host, user: 'app', iam: true })
 * console.log(getTokenProvider(pool)?.stats())
 * ```
 */
export function getTokenProvider(target: object): TokenProvider | undefined {
  const known = providers.get(target)
  if (known) return known
  // pg.Pool keeps its config as `options`; a pg.Client not yet connected keeps the function as
  // `password` / `connectionParameters.password` (pg replaces it with the token once connected).
  const t = target as {
    options?: { password?: unknown }
    password?: unknown
    connectionParameters?: { password?: unknown }
  }
  for (const candidate of [t.options?.password, t.password, t.connectionParameters?.password]) {
    if (typeof candidate === 'function') {
      const found = providers.get(candidate)
      if (found) return found
    }
  }
  return undefined
}

/**
 * Turns a plain pg config into one that authenticates with IAM tokens, for use with your own
 * `pg` (`new pg.Pool(withIam(config))`). Each new physical connection asks the shared token
 * provider for a token (cached, refreshed ahead of expiry); TLS verifies the RDS CA and the
 * endpoint's host name by default.
 *
 * What it cannot do: a `pg.Pool` you build yourself reports a refused login only to the code
 * that called `pool.query()` / `pool.connect()`; nothing of rds-iam is on that path (withIam
 * only made a config). So it cannot invalidate the cached token or retry: after a refused
 * login (a token that aged out in flight, a policy still propagating) new connections keep
 * getting the same token until it is refreshed, and a hung credential source is only noticed
 * inside pg's handshake. Use this package's `Pool` / `createPool` / `Client` for retry with a
 * fresh token and for fetching the token before the socket opens; or call
 * `getTokenProvider(pool)?.invalidate()` yourself when you see `isAuthError(err)`.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * import { withIam } from '@rds-iam/pg'
 * const pool = new pg.Pool(withIam({ host: 'db.abc.eu-west-1.rds.amazonaws.com', user: 'app', database: 'app' }))
 * ```
 */
export function withIam<C extends IamPgConfig>(config: C): IamAppliedPgConfig<C> {
  const prepared = prepareIamConfig(config, true)
  return prepared.config as IamAppliedPgConfig<C>
}

/** What {@link withIam} returns: your config without `iam`/`connectionString`, with the fields IAM settles. */
export type IamAppliedPgConfig<C> = Omit<C, 'iam' | 'connectionString' | 'password' | 'ssl'> & {
  host: string
  port: number
  user: string
  /** Fetches the current token; pg calls it once per new connection. */
  password: () => Promise<string>
  /**
   * The RDS-bundle TLS options, your own `ssl` with verification enforced (RDS bundle when it has
   * no `ca`), or `false` with `iam.insecure`.
   */
  ssl: false | import('node:tls').ConnectionOptions
}

/** @internal Validates, merges the connection string, and builds the provider and password function. */
export function prepareIamConfig(
  input: unknown,
  iamByDefault: boolean,
): PreparedIam<Record<string, unknown>> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw invalid(
      'the pg config must be an object',
      'pass an object like { host, user, database, iam: true }',
    )
  }
  const { iam: iamRaw, connectionString, ...rest } = input as Record<string, unknown>
  if (iamRaw === undefined && !iamByDefault) {
    throw invalid(
      '`iam` is not set',
      'add `iam: true` (or iam options), or use pg directly for password logins',
    )
  }
  const iam = normalizeIamOptions(iamRaw === undefined ? true : iamRaw)
  if (rest.native) {
    throw unsupportedDriver('pg-native', 'remove `native: true` and use the pure JavaScript pg driver')
  }

  const merged: Record<string, unknown> = { ...rest }
  let urlSsl: false | string | Record<string, unknown> | undefined
  if (connectionString !== undefined && connectionString !== null && connectionString !== '') {
    if (typeof connectionString !== 'string') {
      throw invalid('`connectionString` must be a string', 'pass a URL like postgres://user@host:5432/db')
    }
    const parsed = parseConnectionString(connectionString)
    if (parsed.password !== undefined) {
      throw invalid(
        'the connectionString contains a password, but `iam` supplies the password',
        'remove the password from the connectionString (postgres://user@host/db) or drop `iam`',
      )
    }
    // pg lets the URL override the config object; keep that for ordinary fields.
    Object.assign(merged, parsed.fields)
    urlSsl = parsed.ssl
  }

  assertNoPortInHost(merged.host, 'host')
  if (merged.host === undefined) assertNoPortInHost(process.env.PGHOST, 'PGHOST')

  const auth = createConnectionAuth(
    {
      host: merged.host ?? process.env.PGHOST,
      port: merged.port ?? process.env.PGPORT,
      user: merged.user ?? process.env.PGUSER,
      password: merged.password,
      iam,
    },
    { defaultPort: 5432, urlOption: 'connectionString', engine: 'postgres' },
  )
  const { hostname: host, port, username: user, provider } = auth

  const userSsl = rest.ssl !== undefined ? rest.ssl : urlSsl
  const ssl = resolveTls(userSsl, iam, { host })

  // pg calls this once per new physical connection, so every connection gets a current token and
  // the limiter sees every IAM login.
  const password = (): Promise<string> => auth.nextToken()
  // pg-native cannot call a password function and would stringify it into its libpq string;
  // turning that into a typed error beats a confusing authentication failure.
  Object.defineProperty(password, 'toString', {
    value: () => {
      throw unsupportedDriver('pg-native', 'use the pure JavaScript pg driver (pg.Pool, not pg.native.Pool)')
    },
  })

  const config: Record<string, unknown> = { ...merged, host, port, user, password, ssl }
  rememberProvider(config, provider)
  rememberProvider(password, provider)
  return { config, provider, iam, auth }
}

/**
 * `host: 'db.example.com:5432'` is looked up as a host name with a colon in it, so pg fails with
 * an untyped ENOTFOUND and the token would be signed for a name no server has. pg has no
 * host:port syntax, so one colon (or `[v6]:port`) is a port in the wrong field. Two colons or
 * more without brackets is an IPv6 address and passes; a Unix socket path is core's to refuse.
 */
function assertNoPortInHost(host: unknown, field: 'host' | 'PGHOST'): void {
  if (typeof host !== 'string' || host.startsWith('/')) return
  const match = /^\[([^\]]*)\]:([^:]*)$/.exec(host) ?? /^([^:]*):([^:]*)$/.exec(host)
  if (!match) return
  const [, name = '', after = ''] = match
  const portField = field === 'host' ? '`port`' : 'PGPORT'
  const port = /^\d+$/.test(after) ? after : undefined
  throw invalid(
    port
      ? `${field} ${JSON.stringify(host)} includes a port; pg takes the port only from ${portField}`
      : `${field} ${JSON.stringify(host)} is not a host name or IP address (it contains ":")`,
    `set ${field} to the endpoint name alone (${JSON.stringify(name)}) and ${portField} to ${port ?? 'the port'}, or use a connectionString like postgres://user@${name}:${port ?? '5432'}/db`,
  )
}

function invalid(message: string, hint: string): RdsIamError {
  return new RdsIamError('RDS_IAM_INVALID_OPTIONS', message, hint)
}
