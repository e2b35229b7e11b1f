import { inspect } from 'node:util'
import { loadDsqlSigner, loadSigner } from './aws-sdk-loader.js'
import { credentialSourceFor, resolveCredentials } from './credential-source.js'
import { type IamLogger, type IamOptions, type IamService, normalizeIamOptions } from './iam-options.js'
import type { CacheEntry, SignedToken, SignFn, TokenProviderHooks } from './internal-types.js'
import { parseRdsHostname, resolveRegion } from './rds-hostname.js'
import { RdsIamError } from './rds-iam-error.js'
import { safeLog } from './safe-log.js'
import { sharedRegistry } from './shared-registry.js'

// Defaults in one block; the reasons are in the README's "Design notes".
/** RDS accepts a token for 900 s after its X-Amz-Date; DSQL's signer defaults to the same. */
const TOKEN_LIFETIME_SECONDS = 900
/** Aurora DSQL's role that needs `dsql:DbConnectAdmin`; every other role uses `dsql:DbConnect`. */
const DSQL_ADMIN_ROLE = 'admin'
/** Clock skew plus connect latency: a token handed out must still be valid when RDS checks it. */
const DEFAULT_REFRESH_MARGIN_SECONDS = 60
/** Refresh in the background once 2/3 of a token's life is gone (600 s of 900 s: the last 5 minutes). */
const REFRESH_AHEAD_FRACTION = 2 / 3
/** A credential provider (IMDS, SSO, STS) slower than this is treated as broken, never waited on forever. */
const DEFAULT_CREDENTIAL_TIMEOUT_MS = 10_000
/** Same rule as @aws-sdk/rds-signer: credentials this close to expiry are force-refreshed once before signing. */
const CREDENTIAL_REFRESH_BEFORE_MS = 15 * 60_000
/** After a failed background refresh, hits wait this long before trying again (no retry storm, no log flood). */
const BACKGROUND_RETRY_AFTER_MS = 5_000

/**
 * The database engines rds-iam signs for; hints name only the one in use.
 *
 * @example
 * ```ts
 * createConnectionAuth(input, { defaultPort: 5432, urlOption: 'connectionString', engine: 'postgres' })
 * ```
 */
export type DatabaseEngine = 'postgres' | 'mysql'

/** Who a {@link TokenProvider} signs for; no secrets. */
export interface TokenTarget {
  /** The engine the adapter talks to, when it said (`undefined`: hints cover both). */
  engine?: DatabaseEngine
  /** `'dsql'` for Aurora DSQL tokens, `'rds'` (or absent) for RDS, Aurora and RDS Proxy. */
  service?: IamService
  /** Host the token is signed for (`signingHostname` if set). */
  hostname: string
  /** Port the token is signed for (`signingPort` if set); DSQL tokens do not include it. */
  port: number
  username: string
  region: string
  /** Host the client connects to; differs from `hostname` only with `signingHostname`. */
  connectHostname: string
  connectPort: number
}

/** Counters of one shared cache entry (shared by every provider with the same signing target). */
export interface TokenProviderStats {
  /** Tokens signed successfully. */
  signed: number
  /** `getToken()` calls answered from the cache. */
  hits: number
  /** `getToken()` calls that waited on a signing already in flight. */
  inflightJoins: number
  /** Failed signings (credentials or signer), foreground and background. */
  failures: number
}

/**
 * Hands out IAM auth tokens for one database user at one endpoint: cached, single-flight,
 * refreshed ahead of expiry.
 */
export interface TokenProvider {
  /** A valid token; signs only when the cache has none (concurrent callers share one signing). */
  getToken(): Promise<string>
  /** Drops the cached token so the next `getToken()` signs again; call after an auth failure. */
  invalidate(): void
  stats(): TokenProviderStats
  /** Who tokens are signed for; used by {@link withAuthRetry} to fill in its hint. */
  readonly target?: TokenTarget
}

/** What {@link createTokenProvider} takes: where to connect plus the `iam` options. */
export type TokenProviderOptions = {
  hostname: string
  port: number
  username: string
  /** The engine the adapter talks to; only used to word hints. */
  engine?: DatabaseEngine
} & IamOptions

const defaultSign: SignFn = async (request) => {
  const { hostname, port, username, region, credentials } = request
  if (request.service === 'dsql') {
    const { DsqlSigner } = await loadDsqlSigner()
    const signer = new DsqlSigner({
      hostname,
      region,
      credentials,
      expiresIn: request.expiresInSeconds ?? TOKEN_LIFETIME_SECONDS,
    })
    return request.action === 'DbConnectAdmin'
      ? signer.getDbConnectAdminAuthToken()
      : signer.getDbConnectAuthToken()
  }
  const { Signer } = await loadSigner()
  return new Signer({ hostname, port, username, region, credentials }).getAuthToken()
}

function readAmzDate(token: string): number | undefined {
  const m = /[?&]X-Amz-Date=(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(token)
  if (!m) return undefined
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[]
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!)
}

/**
 * Cache entries live in the process-wide registry on `globalThis`, so anything that dumps objects
 * (util.inspect, console.log, JSON loggers, error reporters) could reach them: their token is shown
 * as `[redacted]`. Non-enumerable, so copies and equality checks of the entry are unaffected.
 */
function redactEntry(entry: CacheEntry): void {
  const view = (e: CacheEntry) => ({
    token: e.token === undefined ? undefined : '[redacted]',
    signedAt: e.signedAt,
    hardExpiry: e.hardExpiry,
    signing: e.inflight !== undefined,
    stats: { ...e.stats },
  })
  Object.defineProperties(entry, {
    [inspect.custom]: {
      value(this: CacheEntry, _depth: number, options: object) {
        return `TokenCacheEntry ${inspect(view(this), options)}`
      },
    },
    toJSON: {
      value(this: CacheEntry) {
        return view(this)
      },
    },
  })
}

/** A signing's result is what an in-flight promise resolves to: `util.inspect(promise)` would print it. */
function redactSigned(signed: SignedToken): SignedToken {
  const view = () => ({ token: '[redacted]', signedAt: signed.signedAt, hardExpiry: signed.hardExpiry })
  Object.defineProperties(signed, {
    [inspect.custom]: {
      value: (_depth: number, options: object) => `SignedToken ${inspect(view(), options)}`,
    },
    toJSON: { value: view },
  })
  return signed
}

function invalidOption(message: string, hint: string): RdsIamError {
  return new RdsIamError('RDS_IAM_INVALID_OPTIONS', message, hint)
}

/**
 * Creates a token provider. Providers for the same signing host, port, user, region and
 * credential source share one process-wide cache entry, so many pools cost one signing.
 * Throws `RDS_IAM_NO_REGION` / `RDS_IAM_INVALID_OPTIONS` right away; signing errors surface
 * from `getToken()` as `RDS_IAM_CREDENTIALS` / `RDS_IAM_SIGNING_FAILED`.
 *
 * The second argument is a testing seam (fake clock, fake signer), not a supported API.
 *
 * @example
 * ```ts
 * const provider = createTokenProvider({ hostname: 'db.abc.eu-west-1.rds.amazonaws.com', port: 5432, username: 'app' })
 * const password = await provider.getToken()
 * ```
 */
export function createTokenProvider(
  options: TokenProviderOptions,
  hooks: TokenProviderHooks = {},
): TokenProvider {
  const { hostname, port, username, engine, ...rest } = options ?? ({} as TokenProviderOptions)
  if (typeof hostname !== 'string' || hostname.trim() === '') {
    throw invalidOption(
      'no database host given',
      'set the host (or hostname) of the RDS endpoint in the connection config',
    )
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalidOption(`invalid port ${String(port)}`, 'set the database port, e.g. 5432 or 3306')
  }
  if (typeof username !== 'string' || username === '') {
    throw invalidOption('no database user given', 'set the database user the token is for (user / username)')
  }
  const iam = normalizeIamOptions(rest)
  const now = hooks.now ?? Date.now
  const sign = hooks.sign ?? defaultSign
  const credentialTimeoutMs =
    hooks.credentialTimeoutMs ?? iam.credentialTimeoutMs ?? DEFAULT_CREDENTIAL_TIMEOUT_MS
  const registry = hooks.registry ?? sharedRegistry().tokens
  const logger: IamLogger | undefined = iam.logger

  const signHost = (iam.signingHostname ?? hostname).trim().toLowerCase().replace(/\.$/, '')
  const signPort = iam.signingPort ?? port
  const service: IamService = iam.service ?? (parseRdsHostname(signHost).kind === 'dsql' ? 'dsql' : 'rds')
  if (service === 'rds' && iam.expiresInSeconds !== undefined) {
    throw invalidOption(
      'iam.expiresInSeconds is set, but RDS tokens always live 900 s',
      "remove iam.expiresInSeconds, or set iam.service: 'dsql' if this is an Aurora DSQL endpoint",
    )
  }
  if (service === 'dsql' && engine === 'mysql') {
    throw invalidOption(
      'Aurora DSQL speaks the PostgreSQL protocol only, but this is a MySQL connection',
      'connect to DSQL with a PostgreSQL driver or adapter (pg, knex/sequelize/typeorm/prisma on postgres)',
    )
  }
  const lifetimeSeconds = iam.expiresInSeconds ?? TOKEN_LIFETIME_SECONDS
  // A short DSQL lifetime gets a proportionally short default margin, so its tokens are usable at all.
  const marginSeconds =
    iam.refreshMarginSeconds ?? Math.min(DEFAULT_REFRESH_MARGIN_SECONDS, Math.floor(lifetimeSeconds / 4))
  if (marginSeconds >= lifetimeSeconds) {
    throw invalidOption(
      `iam.refreshMarginSeconds (${marginSeconds}) is not shorter than the token lifetime (${lifetimeSeconds} s)`,
      'lower iam.refreshMarginSeconds or raise iam.expiresInSeconds',
    )
  }
  const marginMs = marginSeconds * 1000
  const lifetimeMs = lifetimeSeconds * 1000
  const action =
    service === 'dsql' ? (username === DSQL_ADMIN_ROLE ? 'DbConnectAdmin' : 'DbConnect') : undefined
  const region = resolveRegion(signHost, iam.region, hooks.env)
  const source = credentialSourceFor(iam.credentials, iam.profile)
  // DSQL tokens name no port and no user, only the action: one token serves every port and every
  // non-admin role of a cluster, but the key stays per user so stats and invalidate() stay per target.
  const key =
    service === 'dsql'
      ? `dsql|${signHost}|${username}|${action}|${lifetimeSeconds}|${region}|${source.id}`
      : `${signHost}:${signPort}|${username}|${region}|${source.id}`
  const who =
    service === 'dsql'
      ? `role ${username}@${signHost} (Aurora DSQL, ${region})`
      : `${username}@${signHost}:${signPort} (${region})`

  let entry = registry.get(key)
  if (!entry) {
    entry = {
      signedAt: 0,
      hardExpiry: 0,
      backgroundRetryAt: 0,
      generation: 0,
      stats: { signed: 0, hits: 0, inflightJoins: 0, failures: 0 },
    }
    registry.set(key, entry)
  }
  // Also for an entry an earlier copy of core created without it.
  if (!Object.hasOwn(entry, inspect.custom)) redactEntry(entry)
  const e: CacheEntry = entry

  const usableUntil = () => e.hardExpiry - marginMs
  const refreshAt = () =>
    Math.min(e.signedAt + (e.hardExpiry - e.signedAt) * REFRESH_AHEAD_FRACTION, usableUntil())

  async function signOnce(): Promise<SignedToken> {
    const started = now()
    let creds = await resolveCredentials(source, credentialTimeoutMs)
    if (creds.expiration && creds.expiration.getTime() - started < CREDENTIAL_REFRESH_BEFORE_MS) {
      // A token cannot outlive the session that signed it; ask once for fresher credentials.
      try {
        const fresh = await resolveCredentials(source, credentialTimeoutMs, true)
        if (!fresh.expiration || fresh.expiration.getTime() > creds.expiration.getTime()) creds = fresh
      } catch {
        // Keep the credentials we have: they are still valid, just short-lived.
      }
    }
    let token: string
    try {
      token = await sign({
        hostname: signHost,
        port: signPort,
        username,
        region,
        credentials: creds,
        ...(service === 'dsql' ? { service, action, expiresInSeconds: lifetimeSeconds } : {}),
      })
    } catch (err) {
      throw new RdsIamError(
        'RDS_IAM_SIGNING_FAILED',
        `could not sign an IAM auth token for ${who}`,
        `check that ${service === 'dsql' ? '@aws-sdk/dsql-signer' : '@aws-sdk/rds-signer'} is installed and the credentials are complete`,
        { cause: err },
      )
    }
    if (typeof token !== 'string' || token === '') {
      throw new RdsIamError(
        'RDS_IAM_SIGNING_FAILED',
        `the signer returned no token for ${who}`,
        'report this as a bug',
      )
    }
    // The token's own X-Amz-Date is what RDS checks; the local clock may have moved while signing.
    const signedAt = readAmzDate(token) ?? started
    const credsEnd = creds.expiration ? creds.expiration.getTime() : Number.POSITIVE_INFINITY
    const hardExpiry = Math.min(signedAt + lifetimeMs, credsEnd)
    if (hardExpiry - marginMs <= now()) {
      safeLog(
        logger,
        'warn',
        `rds-iam: the credentials signing for ${who} expire in ${Math.round((credsEnd - now()) / 1000)} s; tokens will be re-signed on every use until they are refreshed`,
      )
    }
    return redactSigned({ token, signedAt, hardExpiry })
  }

  function startSigning(background: boolean): Promise<SignedToken> {
    const generation = e.generation
    const flight = signOnce()
    e.inflight = flight
    flight.then(
      (result) => {
        if (e.inflight === flight) e.inflight = undefined
        e.stats.signed++
        if (e.generation === generation) {
          e.token = result.token
          e.signedAt = result.signedAt
          e.hardExpiry = result.hardExpiry
        }
        safeLog(
          logger,
          'debug',
          `rds-iam: signed a token for ${who}, valid for ${Math.round((result.hardExpiry - now()) / 1000)} s`,
        )
      },
      (err: unknown) => {
        if (e.inflight === flight) e.inflight = undefined
        e.stats.failures++
        if (background) {
          e.backgroundRetryAt = now() + BACKGROUND_RETRY_AFTER_MS
          const code = err instanceof RdsIamError ? err.code : 'unknown error'
          safeLog(
            logger,
            'warn',
            `rds-iam: background token refresh for ${who} failed (${code}); the current token stays in use until it expires`,
          )
        }
      },
    )
    return flight
  }

  const provider: TokenProvider = {
    async getToken() {
      const t = now()
      if (e.token !== undefined && t < usableUntil()) {
        e.stats.hits++
        if (t >= refreshAt() && !e.inflight && t >= e.backgroundRetryAt)
          void startSigning(true).catch(() => {})
        return e.token
      }
      if (e.inflight) {
        e.stats.inflightJoins++
        return (await e.inflight).token
      }
      return (await startSigning(false)).token
    },
    invalidate() {
      e.generation++
      e.token = undefined
      e.signedAt = 0
      e.hardExpiry = 0
      e.inflight = undefined
    },
    stats() {
      return { ...e.stats }
    },
  }
  const target: TokenTarget = {
    ...(engine === 'postgres' || engine === 'mysql' ? { engine } : {}),
    service,
    hostname: signHost,
    port: signPort,
    username,
    region,
    connectHostname: hostname,
    connectPort: port,
  }
  Object.defineProperty(provider, 'target', { value: Object.freeze(target), enumerable: true })
  Object.defineProperty(provider, inspect.custom, { value: () => `TokenProvider { ${who} }` })
  return Object.freeze(provider)
}
