import { describe, expect, it } from 'vitest'
import { explainNoTls, isNoTlsError } from './no-tls.js'
import { RdsIamError } from './rds-iam-error.js'

// One mapper for a server that offers no TLS, shared by pg, mysql2, knex and TypeORM: knex reported
// the raw driver errors while the pg and mysql2 pools typed them. The driver shapes here are the
// ones pg and mysql2 really produce (the adapters' tests check them against real servers).

const endpoint = { hostname: 'db.example.internal', port: 5432 }

function mysql2NoTls(): Error {
  return Object.assign(new Error('HANDSHAKE_NO_SSL_SUPPORT'), { code: 'HANDSHAKE_NO_SSL_SUPPORT' })
}

describe('explainNoTls', () => {
  it.each([
    ['pg', () => new Error('The server does not support SSL connections')],
    ['mysql2', mysql2NoTls],
  ])('%s: RDS_IAM_INSECURE_TRANSPORT naming the endpoint, the driver error as cause', (_driver, make) => {
    const driverError = make()
    expect(isNoTlsError(driverError)).toBe(true)
    const err = explainNoTls(driverError, endpoint)
    expect(err).toBeInstanceOf(RdsIamError)
    const typed = err as RdsIamError
    expect(typed.code).toBe('RDS_IAM_INSECURE_TRANSPORT')
    expect(typed.message).toContain('db.example.internal:5432 does not offer TLS')
    expect(typed.hint).toMatch(/RDS endpoint/)
    expect(typed.hint).toMatch(/no proxy in between/)
    expect(typed.hint).toContain('ssl: false and iam: { insecure: true }')
    expect(typed.cause).toBe(driverError)
  })

  it('leaves every other error, and a typed one, as it is', () => {
    const other = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    expect(explainNoTls(other, endpoint)).toBe(other)
    const typed = new RdsIamError('RDS_IAM_INSECURE_TRANSPORT', 'already typed', 'x')
    expect(explainNoTls(typed, endpoint)).toBe(typed)
    expect(explainNoTls('a string', endpoint)).toBe('a string')
    // A message that merely mentions SSL is not the driver's no-TLS report.
    const similar = new Error('The server does not support SSL connections (and more)')
    expect(explainNoTls(similar, endpoint)).toBe(similar)
  })
})
