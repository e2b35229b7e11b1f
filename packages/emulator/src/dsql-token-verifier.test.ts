import { DsqlSigner } from '@aws-sdk/dsql-signer'
import { describe, expect, it } from 'vitest'
import { DsqlTokenVerifier } from './dsql-token-verifier.js'

// Pure checks of the DSQL verifier with tokens from AWS's own @aws-sdk/dsql-signer; the clock is
// an input, so expiry and skew need no waiting.
const HOST = 'abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws'
const KEY = {
  accessKeyId: 'AKIADSQLUNIT00000001',
  secretAccessKey: 'dsql-unit-secret-0000000000000000000000',
}
const TEMP = {
  accessKeyId: 'ASIADSQLUNIT00000002',
  secretAccessKey: 'dsql-unit-secret-temp-00000000000000000',
  sessionToken: 'FwoGZXIvYXdzE+temp/session==',
}

function sign(admin: boolean, over: { credentials?: object; expiresIn?: number } = {}): Promise<string> {
  const signer = new DsqlSigner({
    hostname: HOST,
    region: 'us-east-1',
    credentials: (over.credentials ?? KEY) as typeof KEY,
    ...(over.expiresIn === undefined ? {} : { expiresIn: over.expiresIn }),
  })
  return admin ? signer.getDbConnectAdminAuthToken() : signer.getDbConnectAuthToken()
}

function signedAt(token: string): number {
  const m = /X-Amz-Date=(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(token)!
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)
}

describe('DsqlTokenVerifier', () => {
  const verifier = new DsqlTokenVerifier({ region: 'us-east-1', host: HOST, credentials: [KEY] })

  it('refuses a skewSeconds that is not a finite number >= 0 (NaN used to accept any future date)', () => {
    for (const skewSeconds of [Number.NaN, -1, 'abc' as unknown as number]) {
      expect(
        () => new DsqlTokenVerifier({ region: 'us-east-1', host: HOST, credentials: [KEY], skewSeconds }),
      ).toThrow(/skewSeconds must be a finite number >= 0/)
    }
  })

  it('accepts admin with DbConnectAdmin and any role with DbConnect when no mapping is given; host case does not matter', async () => {
    expect(verifier.verify(await sign(true), 'admin')).toEqual({ ok: true, accessKeyId: KEY.accessKeyId })
    expect(verifier.verify(await sign(false), 'reporting').ok).toBe(true)
    const upper = new DsqlTokenVerifier({ region: 'us-east-1', host: HOST.toUpperCase(), credentials: [KEY] })
    expect(upper.verify(await sign(true), 'admin').ok).toBe(true)
  })

  it('expires at X-Amz-Expires (not at 900 s), and honours skew and maxTokenAge', async () => {
    const token = await sign(true, { expiresIn: 3600 })
    const t0 = signedAt(token)
    expect(verifier.verify(token, 'admin', { now: t0 + 3600_000 }).ok).toBe(true)
    expect(verifier.verify(token, 'admin', { now: t0 + 3601_000 })).toMatchObject({
      ok: false,
      reason: 'ExpiredToken',
    })
    expect(verifier.verify(token, 'admin', { now: t0 - 299_000 }).ok).toBe(true)
    expect(verifier.verify(token, 'admin', { now: t0 - 301_000 })).toMatchObject({
      ok: false,
      reason: 'InvalidToken',
    })
    expect(verifier.verify(token, 'admin', { now: t0 + 5_000, maxTokenAgeSeconds: 2 })).toMatchObject({
      ok: false,
      reason: 'ExpiredToken',
    })
  })

  it('checks session tokens and temporary credentials expiry', async () => {
    const expiration = new Date(Date.now() + 60_000)
    const v = new DsqlTokenVerifier({
      region: 'us-east-1',
      host: HOST,
      credentials: [{ ...TEMP, expiration }],
    })
    const token = await sign(true, { credentials: TEMP })
    expect(v.verify(token, 'admin').ok).toBe(true)
    expect(v.verify(token, 'admin', { now: expiration.getTime() })).toMatchObject({
      ok: false,
      reason: 'ExpiredToken',
    })
    const forged = token.replace(/X-Amz-Security-Token=[^&]+/, 'X-Amz-Security-Token=other')
    expect(v.verify(forged, 'admin')).toMatchObject({ ok: false, reason: 'InvalidToken' })
    const noSession = new DsqlTokenVerifier({ region: 'us-east-1', host: HOST, credentials: [{ ...TEMP }] })
    expect(
      noSession.verify(await sign(true, { credentials: { ...TEMP, sessionToken: undefined } }), 'admin'),
    ).toMatchObject({
      ok: false,
      reason: 'InvalidToken',
    })
  })

  it('admins and roles take wildcards; the verdict detail never holds the token or its signature', async () => {
    const v = new DsqlTokenVerifier({
      region: 'us-east-1',
      host: HOST,
      credentials: [KEY],
      admins: ['AKIAOTHER*'],
      roles: { 'app_*': ['AKIADSQL*'] },
    })
    const admin = await sign(true)
    const verdict = v.verify(admin, 'admin')
    expect(verdict).toMatchObject({ ok: false, reason: 'NotAuthorized' })
    const signature = /X-Amz-Signature=([0-9a-f]+)/.exec(admin)![1]!
    expect(JSON.stringify(verdict)).not.toContain(signature)
    expect(v.verify(await sign(false), 'app_reader').ok).toBe(true)
    expect(v.verify(await sign(false), 'other')).toMatchObject({ ok: false, reason: 'NotAuthorized' })
  })

  it('refuses garbage, a tampered action and duplicate parameters as InvalidToken', async () => {
    const token = await sign(false)
    for (const bad of [
      '',
      'not a token',
      token.replace('Action=DbConnect', 'Action=DbConnectAdmin'),
      `${token}&Action=DbConnect`,
      token.replace('X-Amz-SignedHeaders=host', 'X-Amz-SignedHeaders=host%3Bx'),
    ]) {
      expect(verifier.verify(bad, 'app')).toMatchObject({ ok: false, reason: 'InvalidToken' })
    }
  })
})
