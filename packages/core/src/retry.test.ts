import { describe, expect, it } from 'vitest'
import { withAuthRetry } from './auth-retry.js'
import { RdsIamError } from './rds-iam-error.js'
import { countingSigner, fakeClock } from './test-support/fake-signer.js'
import { RDS_HOST, STATIC_CREDS, uniqueUser } from './test-support/unique.js'
import { createTokenProvider } from './token-provider.js'

// Shapes of the errors pg and mysql2 raise for a refused token (see auth-error.test.ts for the real ones).
function pamError(user: string) {
  return Object.assign(new Error(`PAM authentication failed for user "${user}"`), {
    code: '28000',
    severity: 'FATAL',
  })
}

function setup() {
  const clock = fakeClock()
  const signer = countingSigner(clock)
  const username = uniqueUser('app')
  const provider = createTokenProvider(
    { hostname: RDS_HOST, port: 5432, username, credentials: STATIC_CREDS },
    { now: clock.now, sign: signer.sign },
  )
  return { signer, provider, username }
}

const fast = { baseDelayMs: 1, maxDelayMs: 2 }

describe('withAuthRetry', () => {
  it('tells each attempt whether it is the last, from the policy or the default of 3', async () => {
    const { provider, username } = setup()
    for (const [policy, expected] of [
      [fast, [false, false, true]],
      [{ ...fast, maxAttempts: 2 }, [false, true]],
    ] as const) {
      const lastFlags: boolean[] = []
      const outcome = await withAuthRetry(
        async (_n, isLast) => {
          lastFlags.push(isLast)
          throw pamError(username)
        },
        provider,
        policy,
      ).catch((err: unknown) => err)
      expect(outcome).toBeInstanceOf(RdsIamError)
      expect(lastFlags).toEqual(expected)
    }
  })

  it('retries an auth failure with a fresh token and succeeds', async () => {
    const { signer, provider, username } = setup()
    const seen: string[] = []
    const attempts: number[] = []
    const result = await withAuthRetry(
      async (n) => {
        attempts.push(n)
        seen.push(await provider.getToken())
        if (n < 3) throw pamError(username)
        return 'connected'
      },
      provider,
      fast,
    )
    expect(result).toBe('connected')
    expect(attempts).toEqual([1, 2, 3])
    expect(new Set(seen).size).toBe(3) // each retry got a newly signed token
    expect(signer.calls).toHaveLength(3)
  })

  it('passes other errors through unchanged, without retrying', async () => {
    const { provider } = setup()
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    let calls = 0
    const err = await withAuthRetry(
      async () => {
        calls++
        throw refused
      },
      provider,
      fast,
    ).catch((e: unknown) => e)
    expect(err).toBe(refused)
    expect(calls).toBe(1)
  })

  it('ends in RDS_IAM_AUTH_FAILED with a filled-in hint and the driver error as cause', async () => {
    const { provider, username } = setup()
    let last: Error | undefined
    const err = await withAuthRetry(
      async () => {
        last = pamError(username)
        throw last
      },
      provider,
      { ...fast, maxAttempts: 4 },
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RdsIamError)
    const e = err as RdsIamError
    expect(e.code).toBe('RDS_IAM_AUTH_FAILED')
    expect(e.cause).toBe(last)
    expect(e.message).toContain('after 4 attempts')
    expect(e.hint).toContain(`arn:aws:rds-db:eu-west-1:<account>:dbuser:`)
    expect(e.hint).toContain(`/${username}`)
    expect(e.hint).toContain('rds_iam')
    expect(e.hint).toContain('AWSAuthenticationPlugin')
    expect(e.hint).toContain('signingHostname')
    expect(e.hint).toContain('clock')
    expect(e.hint).toContain('TLS')
  })

  it('names the tunnel mismatch when signing host and connect host differ', async () => {
    const provider = createTokenProvider(
      {
        hostname: '127.0.0.1',
        port: 15432,
        username: uniqueUser(),
        credentials: STATIC_CREDS,
        signingHostname: RDS_HOST,
      },
      { sign: countingSigner(fakeClock()).sign },
    )
    const err = await withAuthRetry(
      async () => {
        throw pamError('x')
      },
      provider,
      { maxAttempts: 1 },
    ).catch((e: unknown) => e)
    expect((err as RdsIamError).hint).toContain(
      `signed for ${RDS_HOST}:15432 but the client connects to 127.0.0.1:15432`,
    )
  })
})
