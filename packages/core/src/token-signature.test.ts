import { describe, expect, it } from 'vitest'
import { STATIC_CREDS, uniqueUser } from './test-support/unique.js'
import { verifyRdsToken } from './test-support/verify-sigv4.js'
import { createTokenProvider } from './token-provider.js'

// Real @aws-sdk/rds-signer through createTokenProvider, checked by an independent verifier.
// Signing is local: static credentials, no network.
const HOST = 'mydb.cluster-c9akciq32.eu-west-1.rds.amazonaws.com'

describe('token signature (real rds-signer, independent SigV4 verifier)', () => {
  it('produces a token that verifies for the endpoint, user and region parsed from the hostname', async () => {
    const username = uniqueUser('app')
    const token = await createTokenProvider({
      hostname: HOST,
      port: 5432,
      username,
      credentials: STATIC_CREDS,
    }).getToken()
    expect(token.startsWith(`${HOST}:5432/?`)).toBe(true)
    const result = verifyRdsToken(token, {
      secretAccessKey: STATIC_CREDS.secretAccessKey,
      accessKeyId: STATIC_CREDS.accessKeyId,
      region: 'eu-west-1',
      endpoint: `${HOST}:5432`,
      user: username,
    })
    expect(result.reason).toBeUndefined()
    expect(result.ok).toBe(true)
    expect(result.params['X-Amz-Expires']).toBe('900')
  })

  it('percent-encodes unusual user names and includes the session token', async () => {
    const username = `${uniqueUser('odd')}+user@x/y`
    const credentials = { ...STATIC_CREDS, sessionToken: 'FwoGZXIvYXdzE+session/token==' }
    const token = await createTokenProvider({ hostname: HOST, port: 3306, username, credentials }).getToken()
    expect(token).toContain('X-Amz-Security-Token=')
    const result = verifyRdsToken(token, {
      secretAccessKey: STATIC_CREDS.secretAccessKey,
      endpoint: `${HOST}:3306`,
      user: username,
      sessionToken: credentials.sessionToken,
    })
    expect(result.reason).toBeUndefined()
    expect(result.ok).toBe(true)
  })

  it('signs for signingHostname and the explicit region', async () => {
    const username = uniqueUser()
    const token = await createTokenProvider({
      hostname: '127.0.0.1',
      port: 15432,
      username,
      credentials: STATIC_CREDS,
      signingHostname: HOST,
      signingPort: 5432,
      region: 'eu-west-1',
    }).getToken()
    const result = verifyRdsToken(token, {
      secretAccessKey: STATIC_CREDS.secretAccessKey,
      endpoint: `${HOST}:5432`,
    })
    expect(result.ok).toBe(true)
  })

  it('rejects a tampered token and a wrong secret', async () => {
    const username = uniqueUser('app')
    const token = await createTokenProvider({
      hostname: HOST,
      port: 5432,
      username,
      credentials: STATIC_CREDS,
    }).getToken()
    const tampered = token.replace(`DBUser=${username}`, 'DBUser=admin')
    expect(tampered).not.toBe(token)
    expect(verifyRdsToken(tampered, { secretAccessKey: STATIC_CREDS.secretAccessKey })).toMatchObject({
      ok: false,
      reason: 'signature mismatch',
    })
    expect(verifyRdsToken(token, { secretAccessKey: `${STATIC_CREDS.secretAccessKey}x` })).toMatchObject({
      ok: false,
      reason: 'signature mismatch',
    })
    const otherHost = token.replace(`${HOST}:5432`, `${HOST}:5433`)
    expect(verifyRdsToken(otherHost, { secretAccessKey: STATIC_CREDS.secretAccessKey }).ok).toBe(false)
  })

  it('the verifier does not depend on parameter order and checks expiry', async () => {
    const username = uniqueUser()
    const token = await createTokenProvider({
      hostname: HOST,
      port: 5432,
      username,
      credentials: STATIC_CREDS,
    }).getToken()
    const [head, query] = token.split('/?') as [string, string]
    const reordered = `${head}/?${query.split('&').reverse().join('&')}`
    expect(verifyRdsToken(reordered, { secretAccessKey: STATIC_CREDS.secretAccessKey }).ok).toBe(true)
    expect(
      verifyRdsToken(token, { secretAccessKey: STATIC_CREDS.secretAccessKey, now: Date.now() + 901_000 }),
    ).toMatchObject({ ok: false, reason: 'expired' })
  })
})
