import { describe, expect, it } from 'vitest'
import { RdsIamError } from './rds-iam-error.js'
import { countingSigner, fakeClock } from './test-support/fake-signer.js'
import { RDS_HOST, STATIC_CREDS, uniqueUser } from './test-support/unique.js'
import { createTokenProvider } from './token-provider.js'

describe('single-flight signing', () => {
  it('1,000 concurrent getToken() on a cold cache sign exactly once', async () => {
    const clock = fakeClock()
    const signer = countingSigner(clock)
    const provider = createTokenProvider(
      { hostname: RDS_HOST, port: 5432, username: uniqueUser(), credentials: STATIC_CREDS },
      { now: clock.now, sign: signer.sign },
    )
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => provider.getToken()))
    expect(signer.calls).toHaveLength(1)
    expect(new Set(tokens).size).toBe(1)
    expect(provider.stats()).toEqual({ signed: 1, hits: 0, inflightJoins: 999, failures: 0 })
  })

  it('gives every waiter the same typed error when signing fails, and caches nothing', async () => {
    const clock = fakeClock()
    const signer = countingSigner(clock)
    const provider = createTokenProvider(
      { hostname: RDS_HOST, port: 5432, username: uniqueUser(), credentials: STATIC_CREDS },
      { now: clock.now, sign: signer.sign },
    )
    const cause = new Error('signer exploded')
    signer.hold()
    signer.failWith(cause)
    const waiters = Array.from({ length: 1000 }, () =>
      provider.getToken().then(
        () => 'resolved',
        (e: unknown) => e,
      ),
    )
    signer.release()
    const results = await Promise.all(waiters)
    const first = results[0]
    expect(first).toBeInstanceOf(RdsIamError)
    expect((first as RdsIamError).code).toBe('RDS_IAM_SIGNING_FAILED')
    expect((first as RdsIamError).cause).toBe(cause)
    expect(results.every((r) => r === first)).toBe(true)
    expect(signer.calls).toHaveLength(1)
    signer.failWith(undefined)
    await provider.getToken()
    expect(signer.calls).toHaveLength(2)
    expect(provider.stats()).toMatchObject({ signed: 1, failures: 1 })
  })

  it('gives every waiter the same RDS_IAM_CREDENTIALS error when the credential provider throws', async () => {
    const clock = fakeClock()
    const signer = countingSigner(clock)
    const cause = new Error('no instance profile')
    let calls = 0
    const credentials = async () => {
      calls++
      throw cause
    }
    const provider = createTokenProvider(
      { hostname: RDS_HOST, port: 5432, username: uniqueUser(), credentials },
      { now: clock.now, sign: signer.sign },
    )
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        provider.getToken().then(
          () => 'resolved',
          (e: unknown) => e,
        ),
      ),
    )
    expect(results[0]).toBeInstanceOf(RdsIamError)
    expect((results[0] as RdsIamError).code).toBe('RDS_IAM_CREDENTIALS')
    expect((results[0] as RdsIamError).cause).toBe(cause)
    expect(results.every((r) => r === results[0])).toBe(true)
    expect(calls).toBe(1)
    expect(signer.calls).toHaveLength(0)
  })
})
