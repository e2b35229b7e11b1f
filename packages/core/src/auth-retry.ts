import { isAuthError, isTlsRefusal } from './auth-error.js'
import type { RetryPolicy } from './iam-options.js'
import { isRdsIamError, RdsIamError } from './rds-iam-error.js'
import type { TokenProvider, TokenTarget } from './token-provider.js'

// Three attempts cover a token that expired in flight and a policy still propagating (~30 s is
// too long to hide; the hint explains it). Full jitter keeps a pool's retries from syncing up.
const DEFAULT_MAX_ATTEMPTS = 3
const DEFAULT_BASE_DELAY_MS = 100
const DEFAULT_MAX_DELAY_MS = 2000

/**
 * The causes of a refused IAM login, most likely first, with what is known filled in. Names only
 * the engine in `target.engine` (both when it is unknown).
 *
 * @example
 * ```ts
 * throw new RdsIamError('RDS_IAM_AUTH_FAILED', 'login refused', authFailureHint(provider.target))
 * ```
 */
export function authFailureHint(target: TokenTarget | undefined): string {
  if (target?.service === 'dsql') return dsqlFailureHint(target)
  const user = target?.username ?? '<user>'
  const region = target?.region ?? '<region>'
  const grant = {
    postgres: `PostgreSQL \`GRANT rds_iam TO "${user}"\``,
    mysql: `MySQL \`CREATE USER '${user}' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'\``,
  }
  const engine = target?.engine
  const lines = [
    `the database user lacks IAM login: ${engine ? grant[engine] : `${grant.postgres}; ${grant.mysql}`}`,
    `the IAM policy must allow rds-db:connect on arn:aws:rds-db:${region}:<account>:dbuser:<DbiResourceId or cluster-resource-id>/${user} (new policies take ~30 s to apply)`,
  ]
  if (
    target &&
    (target.hostname !== target.connectHostname.toLowerCase() || target.port !== target.connectPort)
  ) {
    lines.push(
      `the token is signed for ${target.hostname}:${target.port} but the client connects to ${target.connectHostname}:${target.connectPort}; signingHostname/signingPort must name the RDS endpoint`,
    )
  } else {
    lines.push(
      `the token must be signed for the endpoint RDS sees (${target ? `${target.hostname}:${target.port}` : 'host:port'}); through a tunnel or proxy set iam.signingHostname / iam.signingPort`,
    )
  }
  lines.push(
    'the local clock is skewed (tokens are dated by it; sync with NTP)',
    `the region is wrong (signed for ${region}) or the credentials belong to another account`,
    'the connection is not using TLS (IAM users require it)',
  )
  return `check, in order: ${lines.map((l, i) => `(${i + 1}) ${l}`).join('; ')}`
}

/**
 * Aurora DSQL's causes: no `rds_iam` grant and no DBUser; the role comes from the startup message
 * and the IAM action depends on it (DSQL docs, "Authentication and authorization for Aurora DSQL").
 */
function dsqlFailureHint(target: TokenTarget): string {
  const role = target.username
  const region = target.region
  const cluster = `arn:aws:dsql:${region}:<account>:cluster/${target.hostname.split('.')[0] ?? '<cluster-id>'}`
  const lines =
    role === 'admin'
      ? [
          `the IAM policy must allow dsql:DbConnectAdmin on ${cluster} (the role admin always needs DbConnectAdmin; new policies take a while to apply)`,
        ]
      : [
          `the IAM policy must allow dsql:DbConnect on ${cluster}`,
          `the role "${role}" must exist and be mapped to your IAM identity inside the database: as admin run \`CREATE ROLE "${role}" WITH LOGIN\` and \`AWS IAM GRANT "${role}" TO '<your IAM role ARN>'\``,
        ]
  lines.push(
    `the token must be signed for the cluster endpoint the client reaches (${target.hostname}, no port); through a tunnel set iam.signingHostname`,
    'the token has expired (iam.expiresInSeconds, or the credentials that signed it expired first) or the local clock is skewed (sync with NTP)',
    `the region is wrong (signed for ${region}) or the credentials belong to another account`,
  )
  return `check, in order: ${lines.map((l, i) => `(${i + 1}) ${l}`).join('; ')}`
}

function tlsRefused(provider: TokenProvider, cause: unknown): RdsIamError {
  const target = provider.target
  const who = target ? `${target.connectHostname}:${target.connectPort}` : 'the database'
  return new RdsIamError(
    'RDS_IAM_INSECURE_TRANSPORT',
    `${who} refused a connection without TLS (RDS's pg_hba.conf and RDS Proxy allow IAM logins only over TLS)`,
    'RDS, RDS Proxy and Aurora DSQL require TLS for IAM logins: remove ssl: false / sslmode=disable and iam.insecure; rds-iam then verifies the server against the RDS CA bundle it ships',
    { cause },
  )
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * The wait before retry number `retry` (1 = the first retry). The first retry goes out at once:
 * the usual cause is a token that aged out in flight, and re-signing costs under a millisecond.
 * From the second retry on, exponential backoff with full jitter, capped.
 * @internal
 */
export function retryDelayMs(retry: number, base: number, cap: number, random = Math.random): number {
  if (retry <= 1) return 0
  const ceiling = Math.min(cap, base * 2 ** (retry - 2))
  return Math.floor(random() * ceiling)
}

/**
 * Runs `attempt`; when it fails with an authentication error, invalidates the token and tries
 * again: the first retry at once, later ones after a backoff (exponential, full jitter, capped).
 * Other errors pass through unchanged, and an `RdsIamError` from inside `attempt` is never
 * retried. A PostgreSQL TLS refusal (`pg_hba.conf … no encryption`) becomes
 * `RDS_IAM_INSECURE_TRANSPORT` without a retry. After the last attempt:
 * `RdsIamError('RDS_IAM_AUTH_FAILED')` with a hint and the driver error as `cause`.
 * `attempt` is told its number and whether it is the last, so a caller can clean up only
 * between attempts without knowing the policy's defaults.
 *
 * @example
 * ```ts
 * const client = await withAuthRetry(() => connectWith(provider), provider, iam.retry)
 * ```
 */
export async function withAuthRetry<T>(
  attempt: (attemptNumber: number, isLastAttempt: boolean) => Promise<T>,
  provider: TokenProvider,
  policy?: RetryPolicy,
): Promise<T> {
  const maxAttempts = Math.max(1, policy?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)
  const base = policy?.baseDelayMs ?? DEFAULT_BASE_DELAY_MS
  const cap = policy?.maxDelayMs ?? DEFAULT_MAX_DELAY_MS
  for (let n = 1; ; n++) {
    try {
      return await attempt(n, n >= maxAttempts)
    } catch (err) {
      if (isRdsIamError(err)) throw err
      if (isTlsRefusal(err)) throw tlsRefused(provider, err)
      if (!isAuthError(err)) throw err
      provider.invalidate()
      if (n >= maxAttempts) {
        const target = provider.target
        const who = target
          ? `${target.username}@${target.connectHostname}:${target.connectPort}`
          : 'the database'
        throw new RdsIamError(
          'RDS_IAM_AUTH_FAILED',
          `IAM authentication to ${who} failed after ${n} attempt${n === 1 ? '' : 's'}`,
          authFailureHint(target),
          { cause: err },
        )
      }
      const wait = retryDelayMs(n, base, cap)
      if (wait > 0) await sleep(wait)
    }
  }
}
