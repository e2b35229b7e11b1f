import { isAuthError } from './auth-error.js'
import type { RetryPolicy } from './iam-options.js'
import { RdsIamError } from './rds-iam-error.js'
import type { TokenProvider, TokenTarget } from './token-provider.js'

// Three attempts cover a token that expired in flight and a policy still propagating (~30 s is
// too long to hide; the hint explains it). Full jitter keeps a pool's retries from syncing up.
const DEFAULT_MAX_ATTEMPTS = 3
const DEFAULT_BASE_DELAY_MS = 100
const DEFAULT_MAX_DELAY_MS = 2000

/** The causes of a refused IAM login, most likely first, with what is known filled in. */
export function authFailureHint(target: TokenTarget | undefined): string {
  const user = target?.username ?? '<user>'
  const region = target?.region ?? '<region>'
  const lines = [
    `the database user lacks IAM login: PostgreSQL \`GRANT rds_iam TO "${user}"\`; MySQL \`CREATE USER '${user}' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'\``,
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Runs `attempt`; when it fails with an authentication error, invalidates the token, backs off
 * (exponential, full jitter, capped) and tries again. Other errors pass through unchanged. After
 * the last attempt: `RdsIamError('RDS_IAM_AUTH_FAILED')` with a hint and the driver error as `cause`.
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
      const ceiling = Math.min(cap, base * 2 ** (n - 1))
      await sleep(Math.floor(Math.random() * ceiling))
    }
  }
}
