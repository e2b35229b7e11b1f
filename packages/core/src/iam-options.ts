import { inspect } from 'node:util'
import { RdsIamError } from './rds-iam-error.js'
import { sharedRegistry } from './shared-registry.js'

/**
 * AWS credentials, structurally identical to the SDK's `AwsCredentialIdentity`, so SDK objects
 * and providers can be passed as they are.
 */
export interface AwsCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  /** When temporary credentials stop working; a token never outlives them. */
  expiration?: Date
}

/**
 * An async source of credentials, shaped like the SDK's `AwsCredentialIdentityProvider`, so every
 * provider of `@aws-sdk/credential-providers` fits as it is (`fromIni()`,
 * `fromTemporaryCredentials()`, `fromNodeProviderChain()`, …). rds-iam calls it with
 * `{ forceRefresh: true }` when the credentials it has are about to expire.
 *
 * @example
 * ```ts
 * import { fromIni } from '@aws-sdk/credential-providers'
 * const iam: IamOptions = { credentials: fromIni({ profile: 'dev' }) }
 * ```
 */
// The parameter is typed as smithy's IdentityProvider types it: a narrower one (e.g.
// `{ forceRefresh?: boolean }`) makes the SDK's providers, whose parameter is
// `AwsIdentityProperties`, fail to type-check (TS2322, no properties in common).
// biome-ignore lint/suspicious/noExplicitAny: must accept every SDK provider's parameter type
export type AwsCredentialsProvider = (identityProperties?: Record<string, any>) => Promise<AwsCredentials>

/** Retry policy for authentication failures (see {@link withAuthRetry}). */
export interface RetryPolicy {
  /** Total attempts including the first. Default 3. */
  maxAttempts?: number
  /** First backoff ceiling in ms; doubles per attempt (full jitter). Default 100. */
  baseDelayMs?: number
  /** Upper bound of any single backoff in ms. Default 2000. */
  maxDelayMs?: number
}

/** Where log lines go. Never receives a token or a secret. */
export type IamLogger = Pick<Console, 'debug' | 'warn'>

/**
 * Everything `iam: { … }` accepts, in every adapter.
 *
 * @example
 * ```ts
 * new Pool({ host, user: 'app', iam: { region: 'eu-west-1', maxNewConnectionsPerSecond: 50 } })
 * ```
 */
export interface IamOptions {
  /** Default: parsed from the hostname, then `AWS_REGION`, then `AWS_DEFAULT_REGION`. */
  region?: string
  /** Static credentials or a provider. Default: the Node default provider chain, built once per process. */
  credentials?: AwsCredentials | AwsCredentialsProvider
  /** A profile from `~/.aws/config` / `~/.aws/credentials` (uses `fromIni`, built once per profile). */
  profile?: string
  /** Sign for this host instead of the one connected to (SSH tunnel, local proxy). */
  signingHostname?: string
  /** Sign for this port instead of the one connected to (RDS only: DSQL tokens name no port). */
  signingPort?: number
  /**
   * Which AWS service the token is for: `'rds'` (RDS, Aurora, RDS Proxy: `rds-db:connect`) or
   * `'dsql'` (Aurora DSQL: `dsql:DbConnectAdmin` for the role `admin`, `dsql:DbConnect` for any
   * other role). Default: `'dsql'` when the signing host has DSQL's shape
   * (`<cluster-id>.dsql.<region>.on.aws`), else `'rds'`. Set it for DSQL behind a host name that
   * does not show it (a CNAME, a tunnel without `signingHostname`).
   */
  service?: IamService
  /**
   * Aurora DSQL only: how long a token is valid, 1–604 800 s (7 days); default 900. The cache keeps
   * a token for this long (minus `refreshMarginSeconds`), never past the credentials' expiry. RDS
   * tokens always live 900 s, so setting this for RDS is an error.
   */
  expiresInSeconds?: number
  /**
   * How long the credential source (IMDS, ECS, SSO, STS, your provider) may take before the
   * connection attempt fails with `RDS_IAM_CREDENTIALS`. Default 10 000 ms. The token is fetched
   * before the socket opens, so this bounds how long a caller waits on a broken source.
   */
  credentialTimeoutMs?: number
  /** A token counts as expired this long before its real end. Default 60. */
  refreshMarginSeconds?: number
  /** Retry on authentication failure. Default `{ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 2000 }`. */
  retry?: RetryPolicy
  /**
   * Client-side cap on new connections per second per endpoint. Default 100; `0` or `Infinity`
   * turns it off. Pools sharing an endpoint get the lowest rate set.
   */
  maxNewConnectionsPerSecond?: number
  /**
   * Allow a token over a connection without TLS, or over TLS whose certificate or host name is
   * not verified (`rejectUnauthorized: false`, `sslmode=no-verify`). Local testing only.
   */
  insecure?: boolean
  /** Receives debug lines and background-refresh warnings; never a token. A throwing/rejecting logger is ignored. */
  logger?: IamLogger
}

/**
 * The AWS service an IAM token is signed for: `'rds'` (service `rds-db`) or `'dsql'` (Aurora DSQL).
 *
 * @example
 * ```ts
 * const iam: IamOptions = { service: 'dsql', region: 'us-east-1' }
 * ```
 */
export type IamService = 'rds' | 'dsql'

/** Longest token lifetime Aurora DSQL accepts (7 days), per `@aws-sdk/dsql-signer`'s `expiresIn`. */
export const DSQL_MAX_EXPIRES_IN_SECONDS = 604_800

/** The value of the `iam` setting: `true` for every default, or options. */
export type IamOption = true | IamOptions

const KNOWN_KEYS = new Set<string>([
  'region',
  'credentials',
  'profile',
  'signingHostname',
  'signingPort',
  'service',
  'expiresInSeconds',
  'credentialTimeoutMs',
  'refreshMarginSeconds',
  'retry',
  'maxNewConnectionsPerSecond',
  'insecure',
  'logger',
])
const RETRY_KEYS = new Set<string>(['maxAttempts', 'baseDelayMs', 'maxDelayMs'])
// A token lives 900 s; a margin this large or larger would make every token expired on arrival.
const MAX_MARGIN_SECONDS = 600

function invalid(message: string, hint: string): RdsIamError {
  return new RdsIamError('RDS_IAM_INVALID_OPTIONS', message, hint)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function checkNumber(name: string, value: unknown, min: number, max: number, integer: boolean): void {
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    throw invalid(
      `iam.${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}`,
      `set iam.${name} to a value in range or remove it to use the default`,
    )
  }
}

function checkString(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalid(`iam.${name} must be a non-empty string`, `set iam.${name} to a string or remove it`)
  }
}

/**
 * Copies static credentials into an object whose secrets are non-enumerable and hidden from
 * `util.inspect` and JSON, so logging an options object never prints them. The same input
 * object always maps to the same copy, which keeps the token cache shared across calls.
 */
export function redactCredentials(creds: AwsCredentials): AwsCredentials {
  const { redacted } = sharedRegistry()
  const known = redacted.get(creds)
  if (known) return known
  if (Object.hasOwn(creds, inspect.custom)) return creds
  const copy = { accessKeyId: creds.accessKeyId } as AwsCredentials
  Object.defineProperties(copy, {
    secretAccessKey: { value: creds.secretAccessKey, enumerable: false },
    sessionToken: { value: creds.sessionToken, enumerable: false },
    expiration: { value: creds.expiration, enumerable: creds.expiration !== undefined },
    [inspect.custom]: {
      value: () => `AwsCredentials { accessKeyId: '${creds.accessKeyId}', secret: [redacted] }`,
    },
    toJSON: { value: () => ({ accessKeyId: creds.accessKeyId, secretAccessKey: '[redacted]' }) },
  })
  redacted.set(creds, copy)
  redacted.set(copy, copy)
  return copy
}

/**
 * Validates the `iam` setting and returns a fresh options object (`true` → `{}`).
 * Unknown keys and wrong types throw `RDS_IAM_INVALID_OPTIONS` naming the key.
 *
 * @example
 * ```ts
 * const iam = normalizeIamOptions(config.iam) // throws on { regoin: 'eu-west-1' }
 * ```
 */
export function normalizeIamOptions(iam: unknown): IamOptions {
  if (iam === true) return {}
  if (!isPlainObject(iam)) {
    throw invalid(
      `iam must be true or an options object, got ${iam === null ? 'null' : typeof iam}`,
      "use `iam: true` or `iam: { region: 'eu-west-1' }`",
    )
  }
  for (const key of Object.keys(iam)) {
    if (!KNOWN_KEYS.has(key)) {
      throw invalid(
        `unknown option iam.${key}`,
        `remove iam.${key}; known options: ${[...KNOWN_KEYS].join(', ')}`,
      )
    }
  }
  const out: IamOptions = {}
  if (iam.region !== undefined) {
    checkString('region', iam.region)
    out.region = (iam.region as string).trim()
  }
  if (iam.profile !== undefined) {
    checkString('profile', iam.profile)
    out.profile = iam.profile as string
  }
  if (iam.credentials !== undefined) {
    const c = iam.credentials
    if (typeof c === 'function') {
      out.credentials = c as AwsCredentialsProvider
    } else if (
      isPlainObject(c) &&
      typeof c.accessKeyId === 'string' &&
      typeof c.secretAccessKey === 'string'
    ) {
      out.credentials = redactCredentials(c as unknown as AwsCredentials)
    } else {
      throw invalid(
        'iam.credentials must be { accessKeyId, secretAccessKey, sessionToken? } or an async provider function',
        'pass credentials from @aws-sdk/credential-providers (e.g. fromIni()) or remove iam.credentials to use the default chain',
      )
    }
    if (out.profile !== undefined) {
      throw invalid(
        'iam.credentials and iam.profile are both set',
        'keep only one of iam.credentials and iam.profile',
      )
    }
  }
  if (iam.signingHostname !== undefined) {
    checkString('signingHostname', iam.signingHostname)
    out.signingHostname = iam.signingHostname as string
  }
  if (iam.signingPort !== undefined) {
    checkNumber('signingPort', iam.signingPort, 1, 65535, true)
    out.signingPort = iam.signingPort as number
  }
  if (iam.service !== undefined) {
    if (iam.service !== 'rds' && iam.service !== 'dsql') {
      throw invalid(
        `iam.service must be 'rds' or 'dsql', got ${JSON.stringify(iam.service)}`,
        "use iam.service: 'dsql' for Aurora DSQL, 'rds' (or leave it unset) for RDS, Aurora and RDS Proxy",
      )
    }
    out.service = iam.service
  }
  if (iam.expiresInSeconds !== undefined) {
    checkNumber('expiresInSeconds', iam.expiresInSeconds, 1, DSQL_MAX_EXPIRES_IN_SECONDS, true)
    out.expiresInSeconds = iam.expiresInSeconds as number
  }
  if (iam.credentialTimeoutMs !== undefined) {
    checkNumber('credentialTimeoutMs', iam.credentialTimeoutMs, 1, 300_000, false)
    out.credentialTimeoutMs = iam.credentialTimeoutMs as number
  }
  if (iam.refreshMarginSeconds !== undefined) {
    checkNumber('refreshMarginSeconds', iam.refreshMarginSeconds, 0, MAX_MARGIN_SECONDS, false)
    out.refreshMarginSeconds = iam.refreshMarginSeconds as number
  }
  if (iam.retry !== undefined) {
    const r = iam.retry
    if (!isPlainObject(r)) throw invalid('iam.retry must be an object', 'use iam.retry: { maxAttempts: 3 }')
    for (const key of Object.keys(r)) {
      if (!RETRY_KEYS.has(key)) {
        throw invalid(`unknown option iam.retry.${key}`, `remove it; known: ${[...RETRY_KEYS].join(', ')}`)
      }
    }
    const retry: RetryPolicy = {}
    if (r.maxAttempts !== undefined) {
      checkNumber('retry.maxAttempts', r.maxAttempts, 1, 100, true)
      retry.maxAttempts = r.maxAttempts as number
    }
    if (r.baseDelayMs !== undefined) {
      checkNumber('retry.baseDelayMs', r.baseDelayMs, 0, 60_000, false)
      retry.baseDelayMs = r.baseDelayMs as number
    }
    if (r.maxDelayMs !== undefined) {
      checkNumber('retry.maxDelayMs', r.maxDelayMs, 0, 300_000, false)
      retry.maxDelayMs = r.maxDelayMs as number
    }
    out.retry = retry
  }
  if (iam.maxNewConnectionsPerSecond !== undefined) {
    checkNumber(
      'maxNewConnectionsPerSecond',
      iam.maxNewConnectionsPerSecond,
      0,
      Number.POSITIVE_INFINITY,
      false,
    )
    out.maxNewConnectionsPerSecond = iam.maxNewConnectionsPerSecond as number
  }
  if (iam.insecure !== undefined) {
    if (typeof iam.insecure !== 'boolean') {
      throw invalid('iam.insecure must be a boolean', 'use iam.insecure: true only for local testing')
    }
    out.insecure = iam.insecure
  }
  if (iam.logger !== undefined) {
    const l = iam.logger
    if (!isPlainObject(l) || typeof l.debug !== 'function' || typeof l.warn !== 'function') {
      throw invalid(
        'iam.logger must have debug() and warn() methods',
        'pass console or a logger with debug and warn',
      )
    }
    out.logger = l as unknown as IamLogger
  }
  return out
}
