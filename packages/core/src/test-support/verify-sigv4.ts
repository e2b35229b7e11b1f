// An independent SigV4 check of RDS IAM tokens, written from DESIGN §3 with node:crypto only.
// It deliberately shares nothing with @aws-sdk/rds-signer: a verifier built on the signer's own
// code would prove nothing. Test support only; not exported from the package.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

export interface VerifyExpectations {
  secretAccessKey: string
  accessKeyId?: string
  region?: string
  /** `host:port` the token must be signed for. */
  endpoint?: string
  user?: string
  sessionToken?: string
  /** Clock for the expiry check, ms since epoch. Default Date.now(). */
  now?: number
}

export interface VerifyResult {
  ok: boolean
  reason?: string
  params: Record<string, string>
  hostPort: string
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest()
}

export function verifyRdsToken(token: string, expect: VerifyExpectations): VerifyResult {
  const at = token.indexOf('/?')
  const fail = (reason: string, params: Record<string, string> = {}, hostPort = ''): VerifyResult => ({
    ok: false,
    reason,
    params,
    hostPort,
  })
  if (at <= 0 || token.includes('://')) return fail('not host:port/?query')
  const hostPort = token.slice(0, at)
  const pairs: [string, string][] = []
  for (const part of token.slice(at + 2).split('&')) {
    const eq = part.indexOf('=')
    if (eq <= 0) return fail(`malformed parameter ${part.slice(0, 20)}`)
    pairs.push([decodeURIComponent(part.slice(0, eq)), decodeURIComponent(part.slice(eq + 1))])
  }
  const params: Record<string, string> = {}
  for (const [k, v] of pairs) {
    if (k in params) return fail(`duplicate parameter ${k}`)
    params[k] = v
  }
  const need = [
    'Action',
    'DBUser',
    'X-Amz-Algorithm',
    'X-Amz-Credential',
    'X-Amz-Date',
    'X-Amz-Expires',
    'X-Amz-SignedHeaders',
    'X-Amz-Signature',
  ]
  for (const k of need) if (!params[k]) return fail(`missing ${k}`, params, hostPort)
  if (params.Action !== 'connect') return fail('Action is not connect', params, hostPort)
  if (params['X-Amz-Algorithm'] !== 'AWS4-HMAC-SHA256') return fail('bad algorithm', params, hostPort)
  if (params['X-Amz-SignedHeaders'] !== 'host') return fail('signed headers must be host', params, hostPort)
  const scope = params['X-Amz-Credential']!.split('/')
  if (scope.length !== 5) return fail('bad credential scope', params, hostPort)
  const [akid, day, region, service, terminator] = scope as [string, string, string, string, string]
  if (service !== 'rds-db' || terminator !== 'aws4_request')
    return fail('bad service in scope', params, hostPort)
  const amzDate = params['X-Amz-Date']!
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate)
  if (!m || amzDate.slice(0, 8) !== day) return fail('bad X-Amz-Date', params, hostPort)
  if (expect.accessKeyId && akid !== expect.accessKeyId) return fail('unknown access key', params, hostPort)
  if (expect.region && region !== expect.region)
    return fail(`region ${region} is not ${expect.region}`, params, hostPort)
  if (expect.endpoint && hostPort !== expect.endpoint) return fail(`signed for ${hostPort}`, params, hostPort)
  if (expect.user && params.DBUser !== expect.user) return fail('DBUser mismatch', params, hostPort)
  if (expect.sessionToken !== undefined && params['X-Amz-Security-Token'] !== expect.sessionToken) {
    return fail('session token mismatch', params, hostPort)
  }
  const signedAt = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)
  const expires = Number(params['X-Amz-Expires'])
  const now = expect.now ?? Date.now()
  if (!(expires > 0 && expires <= 900)) return fail('bad X-Amz-Expires', params, hostPort)
  if (now > signedAt + expires * 1000) return fail('expired', params, hostPort)

  const canonicalQuery = pairs
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
  const canonicalRequest = ['GET', '/', canonicalQuery, `host:${hostPort}`, '', 'host', EMPTY_SHA256].join(
    '\n',
  )
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    `${day}/${region}/rds-db/aws4_request`,
    createHash('sha256').update(canonicalRequest, 'utf8').digest('hex'),
  ].join('\n')
  let key = hmac(`AWS4${expect.secretAccessKey}`, day)
  key = hmac(key, region)
  key = hmac(key, 'rds-db')
  key = hmac(key, 'aws4_request')
  const expected = hmac(key, stringToSign)
  const given = Buffer.from(params['X-Amz-Signature']!, 'hex')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return fail('signature mismatch', params, hostPort)
  }
  return { ok: true, params, hostPort }
}

export interface DsqlVerifyExpectations {
  secretAccessKey: string
  accessKeyId?: string
  region?: string
  /** Host the token must be signed for: DSQL signs the host alone, no port. */
  host?: string
  action?: 'DbConnectAdmin' | 'DbConnect'
  sessionToken?: string
  now?: number
}

/**
 * The same SigV4 check for Aurora DSQL tokens, from the `@aws-sdk/dsql-signer` facts in DESIGN §5
 * (service `dsql`, `Action=DbConnectAdmin|DbConnect`, no `DBUser`, host without port,
 * `X-Amz-Expires` up to 604 800 s).
 */
export function verifyDsqlToken(token: string, expect: DsqlVerifyExpectations): VerifyResult {
  const at = token.indexOf('/?')
  const fail = (reason: string, params: Record<string, string> = {}, hostPort = ''): VerifyResult => ({
    ok: false,
    reason,
    params,
    hostPort,
  })
  if (at <= 0 || token.includes('://')) return fail('not host/?query')
  const host = token.slice(0, at)
  const pairs: [string, string][] = []
  for (const part of token.slice(at + 2).split('&')) {
    const eq = part.indexOf('=')
    if (eq <= 0) return fail(`malformed parameter ${part.slice(0, 20)}`)
    pairs.push([decodeURIComponent(part.slice(0, eq)), decodeURIComponent(part.slice(eq + 1))])
  }
  const params: Record<string, string> = Object.fromEntries(pairs)
  if (Object.keys(params).length !== pairs.length) return fail('duplicate parameter', params, host)
  for (const k of [
    'Action',
    'X-Amz-Algorithm',
    'X-Amz-Credential',
    'X-Amz-Date',
    'X-Amz-Expires',
    'X-Amz-SignedHeaders',
    'X-Amz-Signature',
  ]) {
    if (!params[k]) return fail(`missing ${k}`, params, host)
  }
  if ('DBUser' in params) return fail('DSQL tokens carry no DBUser', params, host)
  if (host.includes(':')) return fail('DSQL tokens are signed for the host without port', params, host)
  if (params.Action !== 'DbConnectAdmin' && params.Action !== 'DbConnect')
    return fail('bad Action', params, host)
  if (expect.action && params.Action !== expect.action)
    return fail(`Action is ${params.Action}`, params, host)
  if (params['X-Amz-SignedHeaders'] !== 'host') return fail('signed headers must be host', params, host)
  const [akid, day, region, service, terminator] = params['X-Amz-Credential']!.split('/') as string[]
  if (service !== 'dsql' || terminator !== 'aws4_request') return fail('bad service in scope', params, host)
  const amzDate = params['X-Amz-Date']!
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate)
  if (!m || amzDate.slice(0, 8) !== day) return fail('bad X-Amz-Date', params, host)
  if (expect.accessKeyId && akid !== expect.accessKeyId) return fail('unknown access key', params, host)
  if (expect.region && region !== expect.region) return fail(`region ${region}`, params, host)
  if (expect.host && host !== expect.host) return fail(`signed for ${host}`, params, host)
  if (expect.sessionToken !== undefined && params['X-Amz-Security-Token'] !== expect.sessionToken)
    return fail('session token mismatch', params, host)
  const expires = Number(params['X-Amz-Expires'])
  if (!(Number.isInteger(expires) && expires > 0 && expires <= 604_800))
    return fail('bad X-Amz-Expires', params, host)
  const signedAt = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)
  if ((expect.now ?? Date.now()) > signedAt + expires * 1000) return fail('expired', params, host)
  const canonicalQuery = pairs
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
    .sort()
    .join('&')
  const canonicalRequest = ['GET', '/', canonicalQuery, `host:${host}`, '', 'host', EMPTY_SHA256].join('\n')
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    `${day}/${region}/dsql/aws4_request`,
    createHash('sha256').update(canonicalRequest, 'utf8').digest('hex'),
  ].join('\n')
  let key = hmac(`AWS4${expect.secretAccessKey}`, day!)
  key = hmac(key, region!)
  key = hmac(key, 'dsql')
  key = hmac(key, 'aws4_request')
  const expected = hmac(key, stringToSign)
  const given = Buffer.from(params['X-Amz-Signature']!, 'hex')
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return fail('signature mismatch', params, host)
  return { ok: true, params, hostPort: host }
}
