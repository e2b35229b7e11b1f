import { createHash, createHmac } from 'node:crypto'
import { Signer } from '@aws-sdk/rds-signer'
import { describe, expect, it } from 'vitest'
import { type EmulatorCredential, TokenVerifier, type TokenVerifierConfig } from './token-verifier.js'

const staticKey: EmulatorCredential = {
  accessKeyId: 'AKIAEMULATORTEST0001',
  secretAccessKey: 'c2VjcmV0LXN0YXRpYy1rZXktZm9yLXRlc3RzLW9ubHk',
}
const sessionKey: EmulatorCredential = {
  accessKeyId: 'ASIAEMULATORTEST0002',
  secretAccessKey: 'c2VjcmV0LXNlc3Npb24ta2V5LWZvci10ZXN0cw',
  sessionToken: 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJGMEQCIG+session/token==',
}
const endpoint = { hostname: 'localhost', port: 5432 }
const config: TokenVerifierConfig = {
  region: 'us-east-1',
  endpoint: 'localhost:5432',
  credentials: [staticKey, sessionKey],
}

async function sign(
  opts: {
    username?: string
    region?: string
    hostname?: string
    port?: number
    key?: EmulatorCredential
  } = {},
): Promise<string> {
  const key = opts.key ?? staticKey
  return new Signer({
    hostname: opts.hostname ?? endpoint.hostname,
    port: opts.port ?? endpoint.port,
    username: opts.username ?? 'app_user',
    region: opts.region ?? 'us-east-1',
    credentials: {
      accessKeyId: key.accessKeyId,
      secretAccessKey: key.secretAccessKey,
      ...(key.sessionToken === undefined ? {} : { sessionToken: key.sessionToken }),
    },
  }).getAuthToken()
}

/** Splits a token into its host part and its raw `k=v` pairs, keeping encodings. */
function split(token: string): { host: string; pairs: [string, string][] } {
  const [host, query] = token.split('/?') as [string, string]
  return { host, pairs: query.split('&').map((p) => p.split(/=(.*)/s, 2) as [string, string]) }
}

function join(host: string, pairs: [string, string][]): string {
  return `${host}/?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`
}

function replaceParam(token: string, name: string, value: string): string {
  const { host, pairs } = split(token)
  expect(pairs.some(([k]) => k === name)).toBe(true)
  return join(
    host,
    pairs.map(([k, v]) => [k, k === name ? value : v]),
  )
}

/**
 * A hand-rolled SigV4 presign of an RDS token with any `X-Amz-Expires`: the AWS signers refuse to
 * sign past SigV4's one-week maximum, which is exactly the token this test needs.
 */
function presignWithExpires(expires: number, key = staticKey): string {
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '')
  const scope = `${amzDate.slice(0, 8)}/us-east-1/rds-db/aws4_request`
  const query = [
    ['Action', 'connect'],
    ['DBUser', 'app_user'],
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${key.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(expires)],
    ['X-Amz-SignedHeaders', 'host'],
  ]
    .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)
    .join('&')
  const host = 'localhost:5432'
  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
  const canonical = ['GET', '/', query, `host:${host}`, '', 'host', sha256('')].join('\n')
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n')
  let signingKey: Buffer = Buffer.from(`AWS4${key.secretAccessKey}`)
  for (const part of [amzDate.slice(0, 8), 'us-east-1', 'rds-db', 'aws4_request']) {
    signingKey = createHmac('sha256', signingKey).update(part).digest()
  }
  const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex')
  return `${host}/?${query}&X-Amz-Signature=${signature}`
}

/** Flips one character so the value stays the same shape. */
function tamper(value: string): string {
  const i = Math.floor(value.length / 2)
  const c = value[i] === 'a' ? 'b' : 'a'
  return value.slice(0, i) + c + value.slice(i + 1)
}

describe('TokenVerifier', () => {
  it('accepts a token from @aws-sdk/rds-signer with static credentials', async () => {
    const verdict = new TokenVerifier(config).verify(await sign(), 'app_user')
    expect(verdict).toEqual({ ok: true, accessKeyId: staticKey.accessKeyId })
  })

  it('accepts a token signed with temporary credentials carrying their session token', async () => {
    const token = await sign({ key: sessionKey })
    expect(token).toContain('X-Amz-Security-Token=')
    expect(new TokenVerifier(config).verify(token, 'app_user')).toEqual({
      ok: true,
      accessKeyId: sessionKey.accessKeyId,
    })
  })

  it('does not depend on parameter order (botocore puts the signature last)', async () => {
    const { host, pairs } = split(await sign({ key: sessionKey }))
    const sig = pairs.filter(([k]) => k === 'X-Amz-Signature')
    const rest = pairs.filter(([k]) => k !== 'X-Amz-Signature')
    const verifier = new TokenVerifier(config)
    expect(verifier.verify(join(host, [...rest, ...sig]), 'app_user').ok).toBe(true)
    expect(verifier.verify(join(host, [...sig, ...rest.reverse()]), 'app_user').ok).toBe(true)
  })

  it('accepts a percent-encoded user name and verifies it against the decoded login user', async () => {
    const user = 'app user+ü@x'
    const token = await sign({ username: user })
    expect(token).not.toContain('DBUser=app user')
    expect(new TokenVerifier(config).verify(token, user).ok).toBe(true)
  })

  it('rejects every single-field tamper of a valid token as InvalidToken', async () => {
    const token = await sign({ key: sessionKey })
    const verifier = new TokenVerifier(config)
    const { host, pairs } = split(token)
    expect(pairs.map(([k]) => k).sort()).toEqual([
      'Action',
      'DBUser',
      'X-Amz-Algorithm',
      'X-Amz-Credential',
      'X-Amz-Date',
      'X-Amz-Expires',
      'X-Amz-Security-Token',
      'X-Amz-Signature',
      'X-Amz-SignedHeaders',
    ])
    const cases = pairs.map(([name, value]) => ({ name, token: replaceParam(token, name, tamper(value)) }))
    cases.push({ name: 'host', token: join('localhosa:5432', pairs) })
    cases.push({ name: 'port', token: join('localhost:5433', pairs) })
    cases.push({ name: 'extra parameter', token: join(host, [...pairs, ['X-Extra', '1']]) })
    for (const c of cases) {
      // DBUser tamper needs the login user to match what is claimed, to reach the signature check.
      const user =
        c.name === 'DBUser'
          ? decodeURIComponent(split(c.token).pairs.find(([k]) => k === 'DBUser')![1])
          : 'app_user'
      const verdict = verifier.verify(c.token, user)
      expect({ field: c.name, verdict: verdict.ok ? 'ok' : verdict.reason }).toEqual({
        field: c.name,
        verdict: 'InvalidToken',
      })
    }
  })

  it('rejects removing any required parameter', async () => {
    const token = await sign({ key: sessionKey })
    const { host, pairs } = split(token)
    const verifier = new TokenVerifier(config)
    for (const [name] of pairs) {
      const verdict = verifier.verify(
        join(
          host,
          pairs.filter(([k]) => k !== name),
        ),
        'app_user',
      )
      expect({ name, ok: verdict.ok }).toEqual({ name, ok: false })
    }
  })

  it('rejects an expired token as ExpiredToken and accepts it just before 900 s', async () => {
    const token = await sign()
    const verifier = new TokenVerifier(config)
    const signedAt = Date.parse(
      split(token)
        .pairs.find(([k]) => k === 'X-Amz-Date')![1]
        .replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
    )
    expect(verifier.verify(token, 'app_user', { now: signedAt + 899_000 }).ok).toBe(true)
    expect(verifier.verify(token, 'app_user', { now: signedAt + 901_000 })).toMatchObject({
      ok: false,
      reason: 'ExpiredToken',
    })
  })

  it("refuses X-Amz-Expires above SigV4's maximum of 604,800 s as InvalidToken, as AWS does", () => {
    const verifier = new TokenVerifier(config)
    // The hand-rolled signer is right: the same token with lifetimes AWS allows verifies.
    expect(verifier.verify(presignWithExpires(900), 'app_user').ok).toBe(true)
    expect(verifier.verify(presignWithExpires(604_800), 'app_user').ok).toBe(true)
    expect(verifier.verify(presignWithExpires(604_801), 'app_user')).toMatchObject({
      ok: false,
      reason: 'InvalidToken',
      detail: expect.stringContaining('X-Amz-Expires'),
    })
    expect(verifier.verify(presignWithExpires(999_999), 'app_user')).toMatchObject({ reason: 'InvalidToken' })
  })

  it('honours the maxTokenAge fault', async () => {
    const token = await sign()
    const verifier = new TokenVerifier(config)
    const later = Date.now() + 5_000
    expect(verifier.verify(token, 'app_user', { now: later, maxTokenAgeSeconds: 1 })).toMatchObject({
      ok: false,
      reason: 'ExpiredToken',
    })
    expect(verifier.verify(token, 'app_user', { now: later, maxTokenAgeSeconds: null }).ok).toBe(true)
  })

  it('refuses a skewSeconds that is not a finite number >= 0 (NaN used to accept any future date)', () => {
    for (const skewSeconds of [Number.NaN, -1, Number.POSITIVE_INFINITY, 'abc' as unknown as number]) {
      expect(() => new TokenVerifier({ ...config, skewSeconds })).toThrow(
        /skewSeconds must be a finite number >= 0/,
      )
    }
  })

  it('tolerates future skew up to skewSeconds and rejects beyond it', async () => {
    const token = await sign()
    const now = Date.now()
    expect(new TokenVerifier(config).verify(token, 'app_user', { now: now - 200_000 }).ok).toBe(true)
    expect(new TokenVerifier(config).verify(token, 'app_user', { now: now - 400_000 })).toMatchObject({
      ok: false,
      reason: 'InvalidToken',
    })
    const strict = new TokenVerifier({ ...config, skewSeconds: 10 })
    expect(strict.verify(token, 'app_user', { now: now - 60_000 })).toMatchObject({ ok: false })
  })

  it('rejects expired temporary credentials', async () => {
    const expired = { ...sessionKey, expiration: new Date(Date.now() - 1000) }
    const verdict = new TokenVerifier({ ...config, credentials: [expired] }).verify(
      await sign({ key: sessionKey }),
      'app_user',
    )
    expect(verdict).toMatchObject({ ok: false, reason: 'ExpiredToken' })
  })

  it.each([
    ['region', { region: 'eu-west-1' }],
    ['host', { hostname: 'db.example.com' }],
    ['port', { port: 3306 }],
    ['user', { username: 'other_user' }],
  ])('rejects a validly signed token for the wrong %s', async (_field, opts) => {
    const verdict = new TokenVerifier(config).verify(await sign(opts), 'app_user')
    expect(verdict).toMatchObject({ ok: false, reason: 'InvalidToken' })
  })

  it('rejects a token signed for another service', async () => {
    const token = await sign()
    const forged = replaceParam(
      token,
      'X-Amz-Credential',
      split(token)
        .pairs.find(([k]) => k === 'X-Amz-Credential')![1]
        .replace('rds-db', 'rds'),
    )
    const verdict = new TokenVerifier(config).verify(forged, 'app_user')
    expect(verdict).toMatchObject({ ok: false, reason: 'InvalidToken' })
    if (!verdict.ok) expect(verdict.detail).toContain('service')
  })

  it('matches the host case-insensitively', async () => {
    expect(new TokenVerifier(config).verify(await sign({ hostname: 'LocalHost' }), 'app_user').ok).toBe(true)
  })

  it('rejects an unknown access key', async () => {
    const stranger = { accessKeyId: 'AKIASTRANGER00000000', secretAccessKey: 'x' }
    const verdict = new TokenVerifier(config).verify(await sign({ key: stranger }), 'app_user')
    expect(verdict).toMatchObject({ ok: false, reason: 'InvalidToken' })
  })

  it('rejects a token from temporary credentials without or with a wrong session token', async () => {
    const verifier = new TokenVerifier(config)
    const missing = await sign({
      key: { accessKeyId: sessionKey.accessKeyId, secretAccessKey: sessionKey.secretAccessKey },
    })
    expect(verifier.verify(missing, 'app_user')).toMatchObject({ ok: false, reason: 'InvalidToken' })
    const wrong = await sign({ key: { ...sessionKey, sessionToken: 'another-session' } })
    expect(verifier.verify(wrong, 'app_user')).toMatchObject({ ok: false, reason: 'InvalidToken' })
    const extra = await sign({ key: { ...staticKey, sessionToken: 'unexpected' } })
    expect(verifier.verify(extra, 'app_user')).toMatchObject({ ok: false, reason: 'InvalidToken' })
  })

  it('applies the policy: denied users get NotAuthorized, wildcards allow', async () => {
    const verifier = new TokenVerifier({
      ...config,
      policy: [
        { accessKeyId: staticKey.accessKeyId, users: ['app_*'] },
        { accessKeyId: 'ASIA*', users: ['reporting'] },
      ],
    })
    expect(verifier.verify(await sign({ username: 'app_writer' }), 'app_writer').ok).toBe(true)
    expect(verifier.verify(await sign({ username: 'admin' }), 'admin')).toMatchObject({
      ok: false,
      reason: 'NotAuthorized',
    })
    expect(verifier.verify(await sign({ key: sessionKey, username: 'reporting' }), 'reporting').ok).toBe(true)
    expect(verifier.verify(await sign({ key: sessionKey, username: 'app_x' }), 'app_x')).toMatchObject({
      ok: false,
      reason: 'NotAuthorized',
    })
  })

  it('rejects garbage without throwing', () => {
    const verifier = new TokenVerifier(config)
    for (const garbage of [
      '',
      'password',
      '/?',
      'localhost:5432/?%',
      'localhost:5432/?a=1&a=2',
      'x'.repeat(5000),
    ]) {
      expect(verifier.verify(garbage, 'app_user')).toMatchObject({ ok: false, reason: 'InvalidToken' })
    }
  })

  it('never puts the token, signature or secrets in the detail', async () => {
    const token = await sign({ key: sessionKey })
    const signature = split(token).pairs.find(([k]) => k === 'X-Amz-Signature')![1]
    const verifier = new TokenVerifier(config)
    const details = [
      verifier.verify(tamper(token), 'app_user'),
      verifier.verify(replaceParam(token, 'X-Amz-Signature', tamper(signature)), 'app_user'),
      verifier.verify(token, 'app_user', { now: Date.now() + 1e7 }),
      verifier.verify(token, 'someone_else'),
    ].map((v) => (v.ok ? '' : v.detail))
    for (const detail of details) {
      expect(detail.length).toBeGreaterThan(0)
      expect(detail).not.toContain(signature)
      expect(detail).not.toContain(token)
      expect(detail).not.toContain(sessionKey.sessionToken!)
      expect(detail).not.toContain(sessionKey.secretAccessKey)
    }
  })
})
