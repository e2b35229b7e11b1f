import { describe, expect, it } from 'vitest'
import { authFailureHint, withAuthRetry } from './auth-retry.js'
import { countingSigner, fakeClock } from './test-support/fake-signer.js'
import { RDS_HOST, STATIC_CREDS, uniqueUser } from './test-support/unique.js'
import { createTokenProvider, type DatabaseEngine } from './token-provider.js'

// Issue 8, item 10: hints name only the engine in use; a TLS refusal is not an auth failure.

function providerFor(engine?: DatabaseEngine) {
  const clock = fakeClock()
  return createTokenProvider(
    { hostname: RDS_HOST, port: 5432, username: uniqueUser(), credentials: STATIC_CREDS, engine },
    { now: clock.now, sign: countingSigner(clock).sign },
  )
}

describe('hints name the engine in use', () => {
  it('postgres: GRANT rds_iam, no MySQL CREATE USER', () => {
    const hint = authFailureHint(providerFor('postgres').target)
    expect(hint).toContain('GRANT rds_iam')
    expect(hint).not.toContain('AWSAuthenticationPlugin')
  })

  it('mysql: CREATE USER … AWSAuthenticationPlugin, no GRANT rds_iam', () => {
    const hint = authFailureHint(providerFor('mysql').target)
    expect(hint).toContain('AWSAuthenticationPlugin')
    expect(hint).not.toContain('rds_iam')
  })

  it('unknown engine: both', () => {
    const hint = authFailureHint(providerFor().target)
    expect(hint).toContain('GRANT rds_iam')
    expect(hint).toContain('AWSAuthenticationPlugin')
  })
})

describe('a TLS refusal is not an auth failure', () => {
  const noEncryption = Object.assign(
    new Error(
      'pg_hba.conf rejects connection for host "127.0.0.1", user "app", database "db", no encryption',
    ),
    { code: '28000', severity: 'FATAL' },
  )

  it.each([
    ['as the driver raised it', noEncryption],
    ['wrapped by an ORM', new Error('SequelizeConnectionError', { cause: noEncryption })],
  ])(
    '%s → one attempt, RDS_IAM_INSECURE_TRANSPORT with a TLS hint and the driver error as cause',
    async (_name, raised) => {
      const provider = providerFor('postgres')
      let attempts = 0
      const err = await withAuthRetry(
        async () => {
          attempts++
          throw raised
        },
        provider,
        { maxAttempts: 3, baseDelayMs: 0 },
      ).catch((e: unknown) => e)
      expect(attempts).toBe(1)
      expect(err).toMatchObject({ code: 'RDS_IAM_INSECURE_TRANSPORT', cause: raised })
      expect((err as { hint: string }).hint).toMatch(/TLS/)
      expect((err as { hint: string }).hint).not.toMatch(/AWSAuthenticationPlugin|rds-db:connect/)
      expect(provider.stats().signed).toBe(0)
    },
  )
})
