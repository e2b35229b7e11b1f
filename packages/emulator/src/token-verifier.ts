import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { RejectReason } from './internal-types.js'

/** An access key the emulator knows, as IAM would. */
export interface EmulatorCredential {
  accessKeyId: string
  secretAccessKey: string
  /** Present for temporary credentials: tokens must then carry exactly this `X-Amz-Security-Token`. */
  sessionToken?: string
  /** When temporary credentials end; tokens they signed stop working then, even inside 900 s. */
  expiration?: Date
}

/** Which access keys may connect as which database users; `*` matches any run of characters. */
export interface EmulatorPolicyStatement {
  accessKeyId: string
  users: string[]
}

/** Static configuration of a {@link TokenVerifier}. */
export interface TokenVerifierConfig {
  region: string
  /** `host:port` the token must be signed for (compared case-insensitively on the host). */
  endpoint: string
  credentials: readonly EmulatorCredential[]
  /** Absent: every known key may connect as any user. */
  policy?: readonly EmulatorPolicyStatement[] | undefined
  /** Accepted future clock skew of `X-Amz-Date`, in seconds. */
  skewSeconds?: number | undefined
}

/** Per-call inputs that change over time (the clock, the `maxTokenAge` fault). */
export interface VerifyOptions {
  /** Milliseconds since the epoch; default `Date.now()`. */
  now?: number
  /** Fault: treat tokens older than this as expired (RDS itself uses 900). */
  maxTokenAgeSeconds?: number | null
}

/** The verdict; `detail` is for the emulator log and never contains the token or its signature. */
export type TokenVerification =
  | { ok: true; accessKeyId: string }
  | { ok: false; reason: RejectReason; detail: string }

/** RDS accepts an IAM token for 900 s after `X-Amz-Date`, whatever a larger `X-Amz-Expires` says. */
const MAX_TOKEN_LIFETIME_SECONDS = 900
/** SigV4's maximum presigned-URL lifetime (one week); AWS refuses a larger `X-Amz-Expires` outright. */
const MAX_SIGV4_EXPIRES_SECONDS = 604_800
const DEFAULT_SKEW_SECONDS = 300
const SERVICE = 'rds-db'
const ALGORITHM = 'AWS4-HMAC-SHA256'
/** SHA-256 of the empty payload: presigned URLs sign no body. */
const EMPTY_PAYLOAD_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const REQUIRED_PARAMS = [
  'Action',
  'DBUser',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-Signature',
  'X-Amz-SignedHeaders',
] as const

/**
 * Verifies RDS IAM authentication tokens (SigV4 presigned `connect` URLs) the way RDS does,
 * written from the published algorithm with `node:crypto` only. Pure: no I/O, the clock is an input.
 *
 * @example
 * ```ts
 * const verifier = new TokenVerifier({ region: 'us-east-1', endpoint: 'localhost:5432', credentials })
 * const verdict = verifier.verify(password, 'app_user')
 * if (!verdict.ok) log(`${verdict.reason}: ${verdict.detail}`)
 * ```
 */
export class TokenVerifier {
  readonly #config: TokenVerifierConfig
  readonly #keys: Map<string, EmulatorCredential>
  readonly #policy: { key: RegExp; users: RegExp[] }[] | undefined

  constructor(config: TokenVerifierConfig) {
    const skew = config.skewSeconds
    if (skew !== undefined && !(typeof skew === 'number' && Number.isFinite(skew) && skew >= 0)) {
      // NaN would make the future-date check always false: a token dated next week would pass.
      throw new TypeError(`TokenVerifier: skewSeconds must be a finite number >= 0, got ${String(skew)}`)
    }
    this.#config = config
    this.#keys = new Map(config.credentials.map((c) => [c.accessKeyId, c]))
    this.#policy = config.policy?.map((s) => ({
      key: wildcardToRegExp(s.accessKeyId),
      users: s.users.map(wildcardToRegExp),
    }))
  }

  /** Checks `token` presented by a client logging in as `user`. */
  verify(token: string, user: string, options: VerifyOptions = {}): TokenVerification {
    const now = options.now ?? Date.now()
    const parsed = parseToken(token)
    if (typeof parsed === 'string') return invalid(parsed)
    const { hostPort, params } = parsed

    for (const name of REQUIRED_PARAMS) {
      if (!params.has(name)) return invalid(`missing query parameter ${name}`)
    }
    const get = (name: string): string => params.get(name) ?? ''

    if (get('X-Amz-Algorithm') !== ALGORITHM) return invalid('unsupported X-Amz-Algorithm')
    if (get('Action') !== 'connect') return invalid('Action is not connect')
    if (get('X-Amz-SignedHeaders') !== 'host') return invalid('X-Amz-SignedHeaders is not host')

    const scope = get('X-Amz-Credential').split('/')
    if (scope.length !== 5) return invalid('malformed X-Amz-Credential')
    const [accessKeyId = '', scopeDate = '', scopeRegion = '', scopeService = '', terminator = ''] = scope
    if (scopeService !== SERVICE) return invalid(`credential scope names service ${quote(scopeService)}`)
    if (terminator !== 'aws4_request') return invalid('credential scope does not end in aws4_request')
    if (scopeRegion !== this.#config.region) {
      return invalid(`token signed for region ${quote(scopeRegion)}, endpoint is in ${this.#config.region}`)
    }

    const amzDate = get('X-Amz-Date')
    const signedAt = parseAmzDate(amzDate)
    if (signedAt === undefined) return invalid('malformed X-Amz-Date')
    if (scopeDate !== amzDate.slice(0, 8)) return invalid('credential scope date differs from X-Amz-Date')
    const expiresText = get('X-Amz-Expires')
    if (!/^[0-9]{1,6}$/.test(expiresText) || Number(expiresText) === 0) {
      return invalid('malformed X-Amz-Expires')
    }
    if (Number(expiresText) > MAX_SIGV4_EXPIRES_SECONDS) {
      return invalid(`X-Amz-Expires ${expiresText} exceeds SigV4's maximum of ${MAX_SIGV4_EXPIRES_SECONDS} s`)
    }

    if (!sameEndpoint(hostPort, this.#config.endpoint)) {
      return invalid(`token signed for ${quote(hostPort)}, endpoint is ${this.#config.endpoint}`)
    }
    const dbUser = get('DBUser')
    if (dbUser !== user) return invalid(`token is for DBUser ${quote(dbUser)}, login user is ${quote(user)}`)

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
      hostPort,
      params,
    })
    const presented = get('X-Amz-Signature')
    if (!/^[0-9a-f]{64}$/.test(presented) || !constantTimeEqual(presented, expected)) {
      return invalid('signature does not match')
    }

    // Time is checked after the signature so a forged date cannot pick the logged reason.
    const ageSeconds = (now - signedAt) / 1000
    const skew = this.#config.skewSeconds ?? DEFAULT_SKEW_SECONDS
    if (ageSeconds < -skew) {
      return invalid(`X-Amz-Date is ${Math.round(-ageSeconds)} s in the future (tolerance ${skew} s)`)
    }
    const lifetime = Math.min(Number(expiresText), MAX_TOKEN_LIFETIME_SECONDS)
    if (ageSeconds > lifetime) {
      return reject('ExpiredToken', `token expired ${Math.round(ageSeconds - lifetime)} s ago`)
    }
    const cap = options.maxTokenAgeSeconds
    // X-Amz-Date is truncated to the second, so a token signed at x.95 s looks 0.95 s older than it
    // is: the fault compares whole seconds of age, never failing a token younger than its cap.
    if (cap !== undefined && cap !== null && Math.floor(ageSeconds) > cap) {
      return reject('ExpiredToken', `token is ${Math.round(ageSeconds)} s old, maxTokenAge fault is ${cap} s`)
    }
    if (credential.expiration !== undefined && now >= credential.expiration.getTime()) {
      return reject('ExpiredToken', `temporary credentials ${accessKeyId} have expired`)
    }

    if (
      this.#policy !== undefined &&
      !this.#policy.some((s) => s.key.test(accessKeyId) && s.users.some((u) => u.test(user)))
    ) {
      return reject('NotAuthorized', `key ${accessKeyId} is not allowed rds-db:connect as ${quote(user)}`)
    }
    return { ok: true, accessKeyId }
  }
}

function invalid(detail: string): TokenVerification {
  return reject('InvalidToken', detail)
}

function reject(reason: RejectReason, detail: string): TokenVerification {
  return { ok: false, reason, detail }
}

/** Splits `host:port/?query` into the signed host and decoded parameters; a string is the error. */
export function parseToken(token: string): { hostPort: string; params: Map<string, string> } | string {
  if (token.length === 0) return 'empty password'
  const slash = token.indexOf('/')
  if (slash <= 0 || token[slash + 1] !== '?') return 'not a presigned URL of the form host:port/?query'
  const hostPort = token.slice(0, slash)
  const params = new Map<string, string>()
  for (const pair of token.slice(slash + 2).split('&')) {
    const eq = pair.indexOf('=')
    if (eq <= 0) return 'malformed query parameter'
    let key: string
    let value: string
    try {
      key = decodeURIComponent(pair.slice(0, eq))
      value = decodeURIComponent(pair.slice(eq + 1))
    } catch {
      return 'malformed percent-encoding'
    }
    if (params.has(key)) return `duplicate query parameter ${quote(key)}`
    params.set(key, value)
  }
  return { hostPort, params }
}

/** `host:port` pairs match when ports are equal and hosts equal ignoring case (DNS is case-insensitive). */
function sameEndpoint(signed: string, endpoint: string): boolean {
  return signed.toLowerCase() === endpoint.toLowerCase()
}

export function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text)
  if (m === null) return undefined
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[]
  const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!)
  const back = new Date(ms)
  // Date.UTC rolls 20240231 over to March; a real signer never produces such a date.
  if (back.getUTCMonth() !== mo! - 1 || back.getUTCDate() !== d! || h! > 23 || mi! > 59 || s! > 59) {
    return undefined
  }
  return ms
}

/** RFC 3986 unreserved-only encoding, as SigV4 canonical query strings require. */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

export function signature(
  secret: string,
  input: { amzDate: string; scope: string; hostPort: string; params: Map<string, string> },
): string {
  const query = [...input.params]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
  const canonicalRequest = [
    'GET',
    '/',
    query,
    `host:${input.hostPort}`,
    '',
    'host',
    EMPTY_PAYLOAD_SHA256,
  ].join('\n')
  const stringToSign = [
    ALGORITHM,
    input.amzDate,
    input.scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n')
  const [date = '', region = '', service = '', terminator = ''] = input.scope.split('/')
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(date).digest()
  for (const part of [region, service, terminator]) key = createHmac('sha256', key).update(part).digest()
  return createHmac('sha256', key).update(stringToSign).digest('hex')
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  // Length is not secret (signatures are fixed-size); comparing equal lengths keeps timingSafeEqual happy.
  return left.length === right.length && timingSafeEqual(left, right)
}

export function wildcardToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${body}$`, 's')
}

/** Quotes a client-controlled value for the log, truncated so a garbage field cannot flood it. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
}
