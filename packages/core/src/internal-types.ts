import type { AwsCredentials, IamService } from './iam-options.js'

/**
 * What a signer receives: everything a SigV4 `rds-db:connect` presign needs, or for Aurora DSQL
 * (`service: 'dsql'`) a `DbConnectAdmin` / `DbConnect` presign (the port is not signed).
 */
export interface SignRequest {
  hostname: string
  port: number
  username: string
  region: string
  credentials: AwsCredentials
  /** Absent means `'rds'` (so signers written before DSQL support keep working). */
  service?: IamService
  /** DSQL only: `DbConnectAdmin` for the role `admin`, else `DbConnect`. */
  action?: 'DbConnectAdmin' | 'DbConnect'
  /** DSQL only: the token's lifetime in seconds. */
  expiresInSeconds?: number
}

/** Signs one token. The default loads `@aws-sdk/rds-signer` (or `@aws-sdk/dsql-signer`) on first use. */
export type SignFn = (request: SignRequest) => Promise<string>

/** One shared cache slot per signing host, port, user, region and credential source. */
export interface CacheEntry {
  token?: string
  /** X-Amz-Date of the cached token, ms since epoch. */
  signedAt: number
  /** The instant the token stops working: min(X-Amz-Date + lifetime (900 s for RDS), credentials' expiration). */
  hardExpiry: number
  inflight?: Promise<SignedToken>
  /** No background refresh starts before this instant (set after a failed one). */
  backgroundRetryAt: number
  /** Bumped by invalidate() so a signing that started before it is not cached after it. */
  generation: number
  stats: { signed: number; hits: number; inflightJoins: number; failures: number }
}

export interface SignedToken {
  token: string
  signedAt: number
  hardExpiry: number
}

/**
 * Testing seams for {@link createTokenProvider}'s second argument. Not part of the supported
 * API: the clock and signer let unit tests drive expiry without waiting 15 minutes.
 */
export interface TokenProviderHooks {
  /** Clock in ms since epoch. Default `Date.now`. */
  now?: () => number
  /** Replaces `@aws-sdk/rds-signer`. */
  sign?: SignFn
  /** How long a credential provider may take. Default 10 000 ms. */
  credentialTimeoutMs?: number
  /** A private cache instead of the process-wide one. */
  registry?: Map<string, CacheEntry>
  /** Environment to read AWS_REGION / AWS_DEFAULT_REGION from. Default `process.env`. */
  env?: NodeJS.ProcessEnv
}
