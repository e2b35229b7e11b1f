import {
  constantTimeEqual,
  type EmulatorCredential,
  parseAmzDate,
  parseToken,
  quote,
  signature,
  type TokenVerification,
  type VerifyOptions,
  wildcardToRegExp,
} from './token-verifier.js'

/** Static configuration of a {@link DsqlTokenVerifier}. */
export interface DsqlTokenVerifierConfig {
  region: string
  /** The cluster host tokens must be signed for: DSQL signs the host alone, without a port. */
  host: string
  credentials: readonly EmulatorCredential[]
  /** Access keys (`*` wildcards) allowed `dsql:DbConnectAdmin`; absent: every known key. */
  admins?: readonly string[] | undefined
  /**
   * Database roles (`*` wildcards) → the access keys mapped to them with `AWS IAM GRANT` (and
   * allowed `dsql:DbConnect`); absent: every key may use every non-admin role.
   */
  roles?: Readonly<Record<string, readonly string[]>> | undefined
  skewSeconds?: number | undefined
}

/** DSQL's admin role: the only one that logs in with `DbConnectAdmin`. */
const ADMIN_ROLE = 'admin'
/** The signer's `expiresIn` limit (one week), also SigV4's presigned-URL maximum. */
const MAX_EXPIRES_SECONDS = 604_800
const DEFAULT_SKEW_SECONDS = 300
const REQUIRED_PARAMS = [
  'Action',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-Signature',
  'X-Amz-SignedHeaders',
] as const

/**
 * Verifies Aurora DSQL auth tokens (SigV4 presigned `DbConnectAdmin` / `DbConnect` URLs, service
 * `dsql`, host without port, no `DBUser`: the role is the startup user), written from the
 * algorithm with `node:crypto` only. Unlike RDS, a token lives as long as its `X-Amz-Expires`
 * says, up to 604 800 s. Pure: no I/O, the clock is an input.
 *
 * @example
 * ```ts
 * const verifier = new DsqlTokenVerifier({ region: 'us-east-1', host: 'abc.dsql.us-east-1.on.aws', credentials })
 * const verdict = verifier.verify(password, 'admin')
 * ```
 */
export class DsqlTokenVerifier {
  readonly #config: DsqlTokenVerifierConfig
  readonly #keys: Map<string, EmulatorCredential>
  readonly #admins: RegExp[] | undefined
  readonly #roles: { role: RegExp; keys: RegExp[] }[] | undefined

  constructor(config: DsqlTokenVerifierConfig) {
    const skew = config.skewSeconds
    if (skew !== undefined && !(typeof skew === 'number' && Number.isFinite(skew) && skew >= 0)) {
      // NaN would make the future-date check always false: a token dated next week would pass.
      throw new TypeError(`DsqlTokenVerifier: skewSeconds must be a finite number >= 0, got ${String(skew)}`)
    }
    this.#config = config
    this.#keys = new Map(config.credentials.map((c) => [c.accessKeyId, c]))
    this.#admins = config.admins?.map(wildcardToRegExp)
    this.#roles =
      config.roles === undefined
        ? undefined
        : Object.entries(config.roles).map(([role, keys]) => ({
            role: wildcardToRegExp(role),
            keys: keys.map(wildcardToRegExp),
          }))
  }

  /** Checks `token` presented by a client logging in as the database role `role`. */
  verify(token: string, role: string, options: VerifyOptions = {}): TokenVerification {
    const now = options.now ?? Date.now()
    const parsed = parseToken(token)
    if (typeof parsed === 'string') return invalid(parsed)
    const { hostPort: host, params } = parsed
    for (const name of REQUIRED_PARAMS) {
      if (!params.has(name)) return invalid(`missing query parameter ${name}`)
    }
    const get = (name: string): string => params.get(name) ?? ''
    if (get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return invalid('unsupported X-Amz-Algorithm')
    const action = get('Action')
    if (action !== 'DbConnectAdmin' && action !== 'DbConnect') {
      return invalid(`Action ${quote(action)} is neither DbConnectAdmin nor DbConnect`)
    }
    if (params.has('DBUser')) return invalid('DBUser present: this is an RDS token, not a DSQL one')
    if (get('X-Amz-SignedHeaders') !== 'host') return invalid('X-Amz-SignedHeaders is not host')

    const scope = get('X-Amz-Credential').split('/')
    if (scope.length !== 5) return invalid('malformed X-Amz-Credential')
    const [accessKeyId = '', scopeDate = '', scopeRegion = '', scopeService = '', terminator = ''] = scope
    if (scopeService !== 'dsql')
      return invalid(`credential scope names service ${quote(scopeService)}, not dsql`)
    if (terminator !== 'aws4_request') return invalid('credential scope does not end in aws4_request')
    if (scopeRegion !== this.#config.region) {
      return invalid(`token signed for region ${quote(scopeRegion)}, cluster is in ${this.#config.region}`)
    }
    const amzDate = get('X-Amz-Date')
    const signedAt = parseAmzDate(amzDate)
    if (signedAt === undefined) return invalid('malformed X-Amz-Date')
    if (scopeDate !== amzDate.slice(0, 8)) return invalid('credential scope date differs from X-Amz-Date')
    const expiresText = get('X-Amz-Expires')
    if (!/^[0-9]{1,7}$/.test(expiresText) || Number(expiresText) === 0)
      return invalid('malformed X-Amz-Expires')
    if (Number(expiresText) > MAX_EXPIRES_SECONDS) {
      return invalid(`X-Amz-Expires ${expiresText} exceeds the maximum of ${MAX_EXPIRES_SECONDS} s`)
    }
    if (host.includes(':'))
      return invalid(`token signed for ${quote(host)}: DSQL signs the host without a port`)
    if (host.toLowerCase() !== this.#config.host.toLowerCase()) {
      return invalid(`token signed for ${quote(host)}, cluster endpoint is ${this.#config.host}`)
    }

    const credential = this.#keys.get(accessKeyId)
    if (credential === undefined) return invalid(`unknown access key ${quote(accessKeyId)}`)
    const presentedSession = params.get('X-Amz-Security-Token')
    if (credential.sessionToken !== undefined) {
      if (presentedSession === undefined) return invalid(`temporary key ${accessKeyId} without session token`)
      if (!constantTimeEqual(presentedSession, credential.sessionToken)) {
        return invalid(`session token does not match key ${accessKeyId}`)
      }
    } else if (presentedSession !== undefined) {
      return invalid(`session token presented for long-term key ${accessKeyId}`)
    }
    const expected = signature(credential.secretAccessKey, {
      amzDate,
      scope: `${scopeDate}/${scopeRegion}/${scopeService}/${terminator}`,
      hostPort: host,
      params,
    })
    const presented = get('X-Amz-Signature')
    if (!/^[0-9a-f]{64}$/.test(presented) || !constantTimeEqual(presented, expected)) {
      return invalid('signature does not match')
    }

    // Time after the signature, so a forged date cannot pick the logged reason.
    const ageSeconds = (now - signedAt) / 1000
    const skew = this.#config.skewSeconds ?? DEFAULT_SKEW_SECONDS
    if (ageSeconds < -skew) {
      return invalid(`X-Amz-Date is ${Math.round(-ageSeconds)} s in the future (tolerance ${skew} s)`)
    }
    const lifetime = Number(expiresText)
    if (ageSeconds > lifetime)
      return reject('ExpiredToken', `token expired ${Math.round(ageSeconds - lifetime)} s ago`)
    const cap = options.maxTokenAgeSeconds
    if (cap !== undefined && cap !== null && Math.floor(ageSeconds) > cap) {
      return reject('ExpiredToken', `token is ${Math.round(ageSeconds)} s old, maxTokenAge fault is ${cap} s`)
    }
    if (credential.expiration !== undefined && now >= credential.expiration.getTime()) {
      return reject('ExpiredToken', `temporary credentials ${accessKeyId} have expired`)
    }

    if (role === ADMIN_ROLE) {
      if (action !== 'DbConnectAdmin') {
        return reject('NotAuthorized', 'the role admin needs a DbConnectAdmin token, got DbConnect')
      }
      if (this.#admins !== undefined && !this.#admins.some((k) => k.test(accessKeyId))) {
        return reject('NotAuthorized', `key ${accessKeyId} is not allowed dsql:DbConnectAdmin`)
      }
      return { ok: true, accessKeyId }
    }
    if (action !== 'DbConnect') {
      // Emulator's choice: DbConnectAdmin authorizes the admin role only (DSQL documents the pairing).
      return reject(
        'NotAuthorized',
        `role ${quote(role)} is not admin: it logs in with DbConnect, not DbConnectAdmin`,
      )
    }
    if (
      this.#roles !== undefined &&
      !this.#roles.some((r) => r.role.test(role) && r.keys.some((k) => k.test(accessKeyId)))
    ) {
      return reject(
        'NotAuthorized',
        `role ${quote(role)} is not mapped to key ${accessKeyId} (AWS IAM GRANT)`,
      )
    }
    return { ok: true, accessKeyId }
  }
}

function invalid(detail: string): TokenVerification {
  return reject('InvalidToken', detail)
}

function reject(
  reason: 'InvalidToken' | 'ExpiredToken' | 'NotAuthorized',
  detail: string,
): TokenVerification {
  return { ok: false, reason, detail }
}
