import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isAuthError, isProxyCapacityError } from './auth-error.js'
import { authFailureHint } from './auth-retry.js'
import { parseRdsHostname } from './rds-hostname.js'
import { isRdsIamError } from './rds-iam-error.js'
import { countingSigner, fakeClock } from './test-support/fake-signer.js'
import { STATIC_CREDS, uniqueUser } from './test-support/unique.js'
import { verifyDsqlToken } from './test-support/verify-sigv4.js'
import { createTokenProvider } from './token-provider.js'

// Real @aws-sdk/dsql-signer through createTokenProvider, checked by the independent verifier.
// Each test gets its own cluster id, so the process-wide cache never joins two tests.
const clusterHost = (region = 'us-east-1') => `${randomBytes(13).toString('hex')}.dsql.${region}.on.aws`

describe('Aurora DSQL endpoints', () => {
  it('are recognised by shape, with the region from the host name, any case, trailing dot', () => {
    expect(parseRdsHostname('abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws')).toEqual({
      region: 'us-east-1',
      kind: 'dsql',
    })
    expect(parseRdsHostname('ABC123.DSQL.eu-west-2.ON.AWS.')).toEqual({ region: 'eu-west-2', kind: 'dsql' })
    expect(parseRdsHostname('dsql.us-east-1.on.aws').kind).toBe('unknown')
    expect(parseRdsHostname('abc.dsql.nowhere.on.aws').kind).toBe('unknown')
  })
})

describe('DSQL token signature (real dsql-signer, independent SigV4 verifier)', () => {
  it('signs DbConnectAdmin for the role admin: service dsql, host without port, no DBUser, 900 s', async () => {
    const host = clusterHost('eu-west-1')
    const provider = createTokenProvider({
      hostname: host,
      port: 5432,
      username: 'admin',
      credentials: STATIC_CREDS,
    })
    expect(provider.target?.service).toBe('dsql')
    const token = await provider.getToken()
    expect(token.startsWith(`${host}/?`)).toBe(true)
    const result = verifyDsqlToken(token, {
      secretAccessKey: STATIC_CREDS.secretAccessKey,
      accessKeyId: STATIC_CREDS.accessKeyId,
      region: 'eu-west-1',
      host,
      action: 'DbConnectAdmin',
    })
    expect(result.reason).toBeUndefined()
    expect(result.params['X-Amz-Expires']).toBe('900')
    expect(result.params.DBUser).toBeUndefined()
  })

  it('signs DbConnect for any other role, with the session token', async () => {
    const host = clusterHost()
    const credentials = { ...STATIC_CREDS, sessionToken: 'FwoGZXIvYXdzE+session/token==' }
    const token = await createTokenProvider({
      hostname: host,
      port: 5432,
      username: uniqueUser('app'),
      credentials,
    }).getToken()
    const result = verifyDsqlToken(token, {
      secretAccessKey: STATIC_CREDS.secretAccessKey,
      host,
      action: 'DbConnect',
      sessionToken: credentials.sessionToken,
    })
    expect(result.reason).toBeUndefined()
  })

  it('iam.service: dsql signs for a host that does not show it; signingHostname is recognised too', async () => {
    const explicit = await createTokenProvider({
      hostname: 'db.internal.example',
      port: 5432,
      username: 'admin',
      credentials: STATIC_CREDS,
      service: 'dsql',
      region: 'us-west-2',
    }).getToken()
    expect(
      verifyDsqlToken(explicit, {
        secretAccessKey: STATIC_CREDS.secretAccessKey,
        host: 'db.internal.example',
        region: 'us-west-2',
      }).ok,
    ).toBe(true)

    const host = clusterHost('ap-southeast-2')
    const tunnelled = createTokenProvider({
      hostname: '127.0.0.1',
      port: 15432,
      username: uniqueUser(),
      credentials: STATIC_CREDS,
      signingHostname: host,
    })
    expect(tunnelled.target).toMatchObject({ service: 'dsql', region: 'ap-southeast-2', hostname: host })
    const token = await tunnelled.getToken()
    expect(
      verifyDsqlToken(token, {
        secretAccessKey: STATIC_CREDS.secretAccessKey,
        host,
        region: 'ap-southeast-2',
      }).ok,
    ).toBe(true)
  })

  it('iam.expiresInSeconds sets X-Amz-Expires, up to 604 800', async () => {
    const host = clusterHost()
    const token = await createTokenProvider({
      hostname: host,
      port: 5432,
      username: uniqueUser(),
      credentials: STATIC_CREDS,
      expiresInSeconds: 604_800,
    }).getToken()
    const result = verifyDsqlToken(token, { secretAccessKey: STATIC_CREDS.secretAccessKey, host })
    expect(result.reason).toBeUndefined()
    expect(result.params['X-Amz-Expires']).toBe('604800')
  })
})

describe('DSQL options and cache lifetime', () => {
  const base = { port: 5432, credentials: STATIC_CREDS } as const

  it('refuses bad service, out-of-range lifetimes, expiresInSeconds for RDS and DSQL over MySQL, before signing', () => {
    const bad = [
      () =>
        createTokenProvider({ ...base, hostname: clusterHost(), username: 'a', service: 'aurora' as 'rds' }),
      () =>
        createTokenProvider({ ...base, hostname: clusterHost(), username: 'a', expiresInSeconds: 604_801 }),
      () => createTokenProvider({ ...base, hostname: clusterHost(), username: 'a', expiresInSeconds: 0 }),
      () =>
        createTokenProvider({
          ...base,
          hostname: 'db.abc.eu-west-1.rds.amazonaws.com',
          username: 'a',
          expiresInSeconds: 3600,
        }),
      () =>
        createTokenProvider({
          ...base,
          hostname: clusterHost(),
          username: 'a',
          expiresInSeconds: 60,
          refreshMarginSeconds: 60,
        }),
      () => createTokenProvider({ ...base, hostname: clusterHost(), username: 'a', engine: 'mysql' }),
    ]
    for (const make of bad) {
      let caught: unknown
      try {
        make()
      } catch (err) {
        caught = err
      }
      expect(isRdsIamError(caught) && caught.code).toBe('RDS_IAM_INVALID_OPTIONS')
    }
  })

  it('keeps a token for expiresInSeconds minus the margin, then re-signs; the signer is told action and lifetime', async () => {
    const clock = fakeClock()
    const signer = countingSigner(clock)
    const provider = createTokenProvider(
      { ...base, hostname: clusterHost(), username: 'admin', expiresInSeconds: 3600 },
      { now: clock.now, sign: signer.sign, registry: new Map() },
    )
    await provider.getToken()
    expect(signer.calls[0]).toMatchObject({
      service: 'dsql',
      action: 'DbConnectAdmin',
      expiresInSeconds: 3600,
    })
    clock.advance(3600_000 - 61_000)
    await provider.getToken()
    expect(signer.calls).toHaveLength(1)
    clock.advance(2_000)
    await provider.getToken()
    expect(signer.calls).toHaveLength(2)
  })

  it('never keeps a token past the credentials expiry, even with a week-long lifetime', async () => {
    const clock = fakeClock()
    const signer = countingSigner(clock)
    const expiration = new Date(clock.now() + 30 * 60_000)
    const provider = createTokenProvider(
      {
        port: 5432,
        hostname: clusterHost(),
        username: 'app',
        expiresInSeconds: 604_800,
        credentials: async () => ({ ...STATIC_CREDS, expiration }),
      },
      { now: clock.now, sign: signer.sign, registry: new Map() },
    )
    await provider.getToken()
    expect(signer.calls[0]?.action).toBe('DbConnect')
    clock.advance(29 * 60_000)
    await provider.getToken()
    expect(signer.calls).toHaveLength(2)
  })
})

describe('DSQL hints and errors', () => {
  it('names dsql:DbConnectAdmin for admin, dsql:DbConnect and AWS IAM GRANT for other roles, never rds_iam', () => {
    const host = 'abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws'
    const target = {
      service: 'dsql' as const,
      hostname: host,
      port: 5432,
      region: 'us-east-1',
      connectHostname: host,
      connectPort: 5432,
    }
    const admin = authFailureHint({ ...target, username: 'admin' })
    expect(admin).toContain('dsql:DbConnectAdmin')
    expect(admin).toContain('arn:aws:dsql:us-east-1:<account>:cluster/abcdefghijklmnopqrstuvwxyz')
    const app = authFailureHint({ ...target, username: 'app' })
    expect(app).toContain('dsql:DbConnect ')
    expect(app).toContain(`AWS IAM GRANT "app" TO '<your IAM role ARN>'`)
    expect(app).not.toContain('rds_iam')
    expect(app).not.toContain('rds-db:connect')
  })

  it("DSQL's and RDS Proxy's documented IAM refusals are auth errors; the proxy's capacity refusals are not", () => {
    expect(isAuthError({ message: 'IAM authentication failed for user "app"' })).toBe(true)
    expect(
      isAuthError({ message: 'The IAM authentication failed because of too many competing requests.' }),
    ).toBe(true)
    const capacity = [
      { code: '53300', message: 'Timed-out waiting to acquire database connection.' },
      { code: '53300', message: 'The maximum number of client connections to the proxy exceeded 100.' },
      { errno: 1040, message: 'Number simultaneous connections exceeded (100)' },
      // Even an unexpected auth-class code does not make a capacity refusal a token problem.
      { code: '28000', message: 'Timed-out waiting to acquire database connection.' },
      { errno: 9501, message: 'Timed-out waiting to acquire database connection' },
    ]
    for (const err of capacity) {
      expect(isAuthError(err)).toBe(false)
      expect(isProxyCapacityError({ cause: err })).toBe(true)
    }
  })
})
