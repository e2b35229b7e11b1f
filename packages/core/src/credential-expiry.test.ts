import { describe, expect, it } from 'vitest'
import type { AwsCredentials } from './iam-options.js'
import { countingSigner, fakeClock } from './test-support/fake-signer.js'
import { RDS_HOST, uniqueUser } from './test-support/unique.js'
import { createTokenProvider } from './token-provider.js'

const S = 1000

describe('credential expiry', () => {
  it('a token never outlives the temporary credentials that signed it', async () => {
    const clock = fakeClock()
    const signer = countingSigner(clock)
    const requests: ({ forceRefresh?: boolean } | undefined)[] = []
    const credentials = async (props?: { forceRefresh?: boolean }): Promise<AwsCredentials> => {
      requests.push(props)
      // The role session ends 300 s from now whatever we ask (e.g. a short Lambda session).
      return {
        accessKeyId: 'ASIA',
        secretAccessKey: 's',
        sessionToken: 't',
        expiration: new Date(clock.now() + 300 * S),
      }
    }
    const provider = createTokenProvider(
      { hostname: RDS_HOST, port: 5432, username: uniqueUser(), credentials },
      { now: clock.now, sign: signer.sign },
    )
    const token = await provider.getToken()
    // Near-expiry credentials are force-refreshed once before signing, like rds-signer does.
    expect(requests.some((r) => r?.forceRefresh === true)).toBe(true)
    clock.advance(239 * S)
    signer.hold()
    expect(await provider.getToken()).toBe(token)
    signer.release()
    await new Promise((r) => setImmediate(r))
    clock.advance(2 * S) // 241 s: past 300 s minus the 60 s margin, the old token is never served again
    const fresh = await provider.getToken()
    expect(fresh).not.toBe(token)
  })

  it('uses force-refreshed credentials when they last longer', async () => {
    const clock = fakeClock()
    const signer = countingSigner(clock)
    const credentials = async (props?: { forceRefresh?: boolean }): Promise<AwsCredentials> => ({
      accessKeyId: props?.forceRefresh ? 'FRESH' : 'OLD',
      secretAccessKey: 's',
      expiration: new Date(clock.now() + (props?.forceRefresh ? 3600 : 120) * S),
    })
    const provider = createTokenProvider(
      { hostname: RDS_HOST, port: 5432, username: uniqueUser(), credentials },
      { now: clock.now, sign: signer.sign },
    )
    const token = await provider.getToken()
    expect(signer.calls[0]?.credentials.accessKeyId).toBe('FRESH')
    clock.advance(500 * S) // full 840 s token life available with the fresh credentials
    expect(await provider.getToken()).toBe(token)
  })

  it('a credential provider that hangs fails with RDS_IAM_CREDENTIALS after the timeout', async () => {
    const clock = fakeClock()
    const signer = countingSigner(clock)
    const credentials = () => new Promise<AwsCredentials>(() => {})
    const provider = createTokenProvider(
      { hostname: RDS_HOST, port: 5432, username: uniqueUser(), credentials },
      { now: clock.now, sign: signer.sign, credentialTimeoutMs: 50 },
    )
    const err = await provider.getToken().catch((e: unknown) => e)
    expect(err).toMatchObject({ name: 'RdsIamError', code: 'RDS_IAM_CREDENTIALS' })
    expect(String((err as Error).message)).toContain('50 ms')
    expect(signer.calls).toHaveLength(0)
    expect(provider.stats().failures).toBe(1)
  })

  it('a provider resolving garbage fails with RDS_IAM_CREDENTIALS', async () => {
    const clock = fakeClock()
    const signer = countingSigner(clock)
    const credentials = async () => ({}) as AwsCredentials
    const provider = createTokenProvider(
      { hostname: RDS_HOST, port: 5432, username: uniqueUser(), credentials },
      { now: clock.now, sign: signer.sign },
    )
    await expect(provider.getToken()).rejects.toMatchObject({ code: 'RDS_IAM_CREDENTIALS' })
  })
})
