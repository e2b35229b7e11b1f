import { describe, expect, it } from 'vitest'
import { diagnoseLoginError, type LoginContext, rdsNameOnCertificate } from './login-diagnosis.js'

// Pure mapping from a server's answer to the likely cause; the answers are the exact shapes pg
// and mysql2 produce (checked against PostgreSQL 15, MariaDB 10.11 and the emulator in
// doctor-command.test.ts). Answers no local server gives (RDS-only ones) are covered here.
const pgCtx: LoginContext = {
  engine: 'postgres',
  user: 'app',
  region: 'eu-west-1',
  regionSource: 'from the hostname',
  connectHost: 'db.abc123.eu-west-1.rds.amazonaws.com',
  connectPort: 5432,
  signingHost: 'db.abc123.eu-west-1.rds.amazonaws.com',
  signingPort: 5432,
  signingHostGiven: false,
  signingPortGiven: false,
  certNames: ['*.abc123.eu-west-1.rds.amazonaws.com'],
}
const myCtx: LoginContext = { ...pgCtx, engine: 'mysql', connectPort: 3306, signingPort: 3306 }

describe('diagnoseLoginError', () => {
  it('PAM authentication failed → token causes in order, grant and policy with what is known', () => {
    const d = diagnoseLoginError(
      { code: '28000', message: 'PAM authentication failed for user "app"' },
      { ...pgCtx, account: '123456789012' },
    )
    expect(d.detail).toBe('PAM authentication failed for user "app" (SQLSTATE 28000)')
    const lines = d.fix.split('\n')
    expect(lines[0]).toBe('the database refused the token; likely causes, most likely first:')
    expect(lines[1]).toContain('(1) the database user lacks IAM login: run GRANT rds_iam TO "app";')
    expect(lines[2]).toContain('--enable-iam-database-authentication')
    expect(lines[3]).toContain(
      'arn:aws:rds-db:eu-west-1:123456789012:dbuser:<DbiResourceId or cluster-resource-id>/app',
    )
    expect(d.fix).toContain('signed for db.abc123.eu-west-1.rds.amazonaws.com:5432')
    expect(d.fix).toContain('clock')
  })

  it('MySQL 1045 → the AWSAuthenticationPlugin user first', () => {
    const d = diagnoseLoginError(
      {
        errno: 1045,
        code: 'ER_ACCESS_DENIED_ERROR',
        sqlMessage: "Access denied for user 'app'@'10.0.0.5' (using password: YES)",
        message: "Access denied for user 'app'@'10.0.0.5' (using password: YES)",
      },
      myCtx,
    )
    expect(d.detail).toBe(
      "Access denied for user 'app'@'10.0.0.5' (using password: YES) (errno 1045, ER_ACCESS_DENIED_ERROR)",
    )
    expect(d.fix).toContain(
      "(1) the database user is not an IAM user: run CREATE USER 'app' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'",
    )
  })

  it("MySQL 1045 '(using password: NO)' → the server never asked for the token", () => {
    const d = diagnoseLoginError(
      { errno: 1045, sqlMessage: "Access denied for user 'app'@'10.0.0.5' (using password: NO)" },
      myCtx,
    )
    expect(d.fix.split('\n')[1]).toContain(
      "the server did not ask for the token, so 'app' is not an IAM user there",
    )
  })

  it('pg_hba.conf … no encryption → TLS, not the token', () => {
    const d = diagnoseLoginError(
      {
        code: '28000',
        message:
          'pg_hba.conf rejects connection for host "10.0.0.5", user "app", database "postgres", no encryption',
      },
      pgCtx,
    )
    expect(d.fix).toContain('IAM users must connect over TLS')
    expect(d.fix).not.toContain('rds_iam TO')
  })

  it('28P01 password authentication failed → not an IAM user (no rds_iam grant, or IAM auth off)', () => {
    const d = diagnoseLoginError(
      { code: '28P01', message: 'password authentication failed for user "app"' },
      pgCtx,
    )
    expect(d.fix).toContain('GRANT rds_iam TO "app"')
    expect(d.fix).toContain('--enable-iam-database-authentication')
  })

  it('unknown database (3D000 / 1049) → --database', () => {
    expect(
      diagnoseLoginError(
        { code: '3D000', message: 'database "nope" does not exist' },
        { ...pgCtx, database: 'nope' },
      ).fix,
    ).toContain('the database "nope" does not exist: pass --database')
    expect(diagnoseLoginError({ errno: 1049, sqlMessage: "Unknown database 'nope'" }, myCtx).fix).toContain(
      '--database',
    )
  })

  it('a certificate error from the driver is reported as a TLS mismatch, not a token problem', () => {
    const d = diagnoseLoginError(
      { code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: "Hostname/IP does not match certificate's altnames" },
      pgCtx,
    )
    expect(d.fix).toContain('the driver rejected the server certificate')
    expect(d.fix).not.toContain('rds_iam')
  })

  it('a wildcard certificate name is not offered as a signing host; a concrete RDS name is', () => {
    expect(rdsNameOnCertificate(['*.abc123.eu-west-1.rds.amazonaws.com'])).toBeUndefined()
    expect(rdsNameOnCertificate(['localhost', 'db.abc123.eu-west-1.rds.amazonaws.com'])).toBe(
      'db.abc123.eu-west-1.rds.amazonaws.com',
    )
  })
})
