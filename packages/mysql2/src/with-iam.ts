import {
  createConnectionAuth,
  type IamOption,
  normalizeIamOptions,
  RdsIamError,
  resolveTls,
  type TokenProvider,
} from '@rds-iam/core'
import { recoverError, rememberError } from './error-recovery.js'
import type { PreparedIam } from './internal-types.js'

/**
 * A mysql2 connection/pool config with `iam` added. Everything else is mysql2's own config,
 * passed through (except `password`, `ssl`, `uri` and `authPlugins.mysql_clear_password`,
 * which `iam` settles).
 */
export interface IamMysqlConfig {
  /** `true` for defaults, or IAM options. Omitted in `withIam` means `true`. */
  iam?: IamOption
  host?: string
  port?: number
  user?: string
  database?: string
  /** `mysql://user@host:3306/db`; merged so it cannot drop the token plugin or TLS. */
  uri?: string
  /** Default: verify against the current RDS CA bundle. `'Amazon RDS'` (mysql2's profile) is kept if you pass it. */
  ssl?: unknown
}

const providers = new WeakMap<object, TokenProvider>()
const PLUGIN_ERROR = Symbol('rds-iam plugin error')

/** @internal */
export function rememberProvider(target: object, provider: TokenProvider): void {
  providers.set(target, provider)
}

/**
 * The token provider behind a config from {@link withIam}, or a pool/connection of this
 * package: `stats()` for metrics, `invalidate()` after an out-of-band failure.
 *
 * @example
 * ```ts
 * const pool = createPool({ host, user: 'app', iam: true })
 * console.log(getTokenProvider(pool)?.stats())
 * ```
 */
export function getTokenProvider(target: object): TokenProvider | undefined {
  return providers.get(target)
}

/**
 * Turns a plain mysql2 config into one that authenticates with IAM tokens, for use with your own
 * mysql2: each new connection gets a current token through the `mysql_clear_password` auth
 * plugin, over TLS verified against the RDS CA bundle. Retries on authentication failure need
 * this package's `createPool` / promise `createConnection`.
 *
 * @example
 * ```ts
 * import mysql from 'mysql2/promise'
 * import { withIam } from '@rds-iam/mysql2'
 * const pool = mysql.createPool(withIam({ host: 'db.abc.eu-west-1.rds.amazonaws.com', user: 'app', database: 'app' }))
 * ```
 */
export function withIam<C extends IamMysqlConfig>(config: C): IamAppliedMysqlConfig<C> {
  return prepareIamConfig(config, true).config as IamAppliedMysqlConfig<C>
}

/** What {@link withIam} returns: your config without `iam`/`uri`, with the fields IAM settles. */
export type IamAppliedMysqlConfig<C> = Omit<C, 'iam' | 'uri' | 'password'> & {
  host: string
  port: number
  user: string
  /** The RDS-bundle TLS options, your own `ssl`, or `undefined` with `iam.insecure`. */
  ssl: unknown
  /** Your plugins plus `mysql_clear_password`, which fetches the token per connection. */
  authPlugins: Record<string, unknown>
}

/** @internal Validates, merges `uri`, builds the provider and the auth plugin. */
export function prepareIamConfig(input: unknown, iamByDefault: boolean): PreparedIam {
  const source = typeof input === 'string' ? { uri: input } : input
  if (source === null || typeof source !== 'object' || Array.isArray(source)) {
    throw invalid(
      'the mysql2 config must be an object',
      'pass an object like { host, user, database, iam: true }',
    )
  }
  const { iam: iamRaw, uri, ...rest } = source as Record<string, unknown>
  if (iamRaw === undefined && !iamByDefault) {
    throw invalid(
      '`iam` is not set',
      'add `iam: true` (or iam options), or use mysql2 directly for password logins',
    )
  }
  const iam = normalizeIamOptions(iamRaw === undefined ? true : iamRaw)
  const merged: Record<string, unknown> = { ...rest }
  if (uri !== undefined && uri !== null && uri !== '') {
    Object.assign(merged, parseUri(uri))
  }
  if (merged.socketPath) {
    throw invalid(
      '`socketPath` cannot carry an IAM login',
      'remove socketPath and set `host` to the RDS endpoint',
    )
  }
  const auth = createConnectionAuth(
    { host: merged.host, port: merged.port, user: merged.user, password: merged.password, iam },
    { defaultPort: 3306, urlOption: 'uri' },
  )
  delete merged.password
  const { hostname: host, port, username: user, provider } = auth
  // mysql2's own profile name is the user's explicit choice (DESIGN §10 explains why it is not the default).
  const userSsl = rest.ssl !== undefined ? rest.ssl : merged.ssl
  const ssl = typeof userSsl === 'string' && userSsl !== 'disable' ? userSsl : resolveTls(userSsl, iam)
  const authPlugins = merged.authPlugins
  if (authPlugins !== undefined && (authPlugins === null || typeof authPlugins !== 'object')) {
    throw invalid('`authPlugins` must be an object', 'pass authPlugins as { name: plugin } or leave it out')
  }

  // RDS switches every IAM login to mysql_clear_password; mysql2 calls this once per connection.
  const mysql_clear_password = () => async () => {
    try {
      return Buffer.from(`${await auth.nextToken()}\0`)
    } catch (err) {
      // mysql2 overwrites `code` on errors thrown by a plugin; wrap so the RdsIamError stays intact.
      throw wrapPluginError(err)
    }
  }
  const config: Record<string, unknown> = {
    ...merged,
    host,
    port,
    user,
    ssl: ssl === false ? undefined : ssl,
    authPlugins: { ...(authPlugins as object | undefined), mysql_clear_password },
  }
  rememberProvider(config, provider)
  return { config, provider, iam }
}

function wrapPluginError(err: unknown): Error {
  const wrapper = new Error(err instanceof Error ? err.message : String(err), { cause: err })
  Object.defineProperty(wrapper, PLUGIN_ERROR, { value: err })
  return rememberError(wrapper)
}

/** @internal The error the plugin threw (e.g. an `RdsIamError` for credentials), if `err` wraps one. */
export function unwrapPluginError(err: unknown): unknown {
  if (err && typeof err === 'object' && PLUGIN_ERROR in err)
    return (err as Record<symbol, unknown>)[PLUGIN_ERROR]
  return recoverError(err)
}

function parseUri(uri: unknown): Record<string, unknown> {
  if (typeof uri !== 'string')
    throw invalid('`uri` must be a string', 'pass a URL like mysql://user@host:3306/db')
  let url: URL
  try {
    url = new URL(uri)
  } catch (cause) {
    throw new RdsIamError(
      'RDS_IAM_INVALID_OPTIONS',
      '`uri` could not be parsed',
      'pass a URL like mysql://user@host:3306/db (percent-encode special characters)',
      { cause },
    )
  }
  // Same fields and query handling as mysql2's ConnectionConfig.parseUrl; empty values are left out.
  const out: Record<string, unknown> = {}
  const host = decodeURIComponent(url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname)
  if (host) out.host = host
  if (url.port) out.port = Number(url.port)
  if (url.pathname.length > 1) out.database = decodeURIComponent(url.pathname.slice(1))
  if (url.username) out.user = decodeURIComponent(url.username)
  if (url.password) out.password = decodeURIComponent(url.password)
  for (const [key, value] of url.searchParams) {
    if (key in out || key === 'password') continue
    try {
      out[key] = JSON.parse(value)
    } catch {
      out[key] = value
    }
  }
  return out
}

function invalid(message: string, hint: string): RdsIamError {
  return new RdsIamError('RDS_IAM_INVALID_OPTIONS', message, hint)
}
