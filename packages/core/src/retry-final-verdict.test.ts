import { describe, expect, it } from 'vitest'
import { isAuthError } from './auth-error.js'
import { withAuthRetry } from './auth-retry.js'
import { RdsIamError } from './rds-iam-error.js'
import { countingSigner, fakeClock } from './test-support/fake-signer.js'
import { RDS_HOST, STATIC_CREDS, uniqueUser } from './test-support/unique.js'
import { createTokenProvider } from './token-provider.js'

// Issue 8, item 1: an error rds-iam gave up on is never retried, at any depth. isAuthError used
// to look through RDS_IAM_AUTH_FAILED's `cause` (the driver's 28000), so an outer retry loop
// (mysql2's pool re-entering getConnection) started an exhausted retry again: a login storm.

const pam = Object.assign(new Error('PAM authentication failed for user "app"'), { code: '28000' })
const mysqlDenied = Object.assign(new Error("Access denied for user 'app'"), {
  code: 'ER_ACCESS_DENIED_ERROR',
  errno: 1045,
})
const exhausted = (cause: unknown) =>
  new RdsIamError('RDS_IAM_AUTH_FAILED', 'IAM authentication failed after 3 attempts', 'grant rds_iam', {
    cause,
  })

describe('an RdsIamError is a final verdict', () => {
  it.each([
    ['RDS_IAM_AUTH_FAILED wrapping a pg 28000', exhausted(pam)],
    ['RDS_IAM_AUTH_FAILED wrapping a mysql 1045', exhausted(mysqlDenied)],
    [
      'an ORM error wrapping RDS_IAM_AUTH_FAILED',
      new Error('SequelizeConnectionError', { cause: exhausted(pam) }),
    ],
    ['a parent/original chain', Object.assign(new Error('x'), { parent: { original: exhausted(pam) } })],
    ['an AggregateError of exhausted retries', new AggregateError([exhausted(pam), exhausted(mysqlDenied)])],
    ['RDS_IAM_CREDENTIALS', new RdsIamError('RDS_IAM_CREDENTIALS', 'no credentials', 'configure them')],
    [
      'an RdsIamError that carries an auth-looking code of its own',
      Object.assign(new RdsIamError('RDS_IAM_AUTH_FAILED', 'x', 'y'), { errno: 1045 }),
    ],
  ])('isAuthError(%s) is false', (_name, err) => {
    expect(isAuthError(err)).toBe(false)
  })

  it('the driver error beside an RdsIamError in an AggregateError still counts', () => {
    expect(isAuthError(new AggregateError([exhausted(pam), pam]))).toBe(true)
  })

  it('nested retry loops cost at most maxAttempts logins per caller', async () => {
    const clock = fakeClock()
    const provider = createTokenProvider(
      { hostname: RDS_HOST, port: 5432, username: uniqueUser(), credentials: STATIC_CREDS },
      { now: clock.now, sign: countingSigner(clock).sign },
    )
    let logins = 0
    const policy = { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 }
    const inner = () =>
      withAuthRetry(
        async () => {
          logins++
          throw pam
        },
        provider,
        policy,
      )
    // An outer loop around an inner one, as an adapter that re-enters its own connect would build.
    const err = await withAuthRetry(inner, provider, policy).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'RDS_IAM_AUTH_FAILED' })
    expect(logins).toBe(3)
  })
})
