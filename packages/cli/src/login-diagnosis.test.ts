import { describe, expect, it } from 'vitest'
import {
  diagnoseLoginError,
  iamPrincipalArn,
  type LoginContext,
  rdsNameOnCertificate,
} from './login-diagnosis.js'

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

  it('RDS Proxy capacity refusals (53300 on PostgreSQL, 9501 / 1040 on MySQL) are not token problems', () => {
    const pgProxy = diagnoseLoginError(
      { code: '53300', message: 'Timed-out waiting to acquire database connection.' },
      pgCtx,
    )
    expect(pgProxy.fix).toContain('not a token problem')
    expect(pgProxy.fix).not.toContain('rds_iam')
    const myProxy = diagnoseLoginError(
      { errno: 1040, code: 'ER_CON_COUNT_ERROR', message: 'Number simultaneous connections exceeded (1000)' },
      myCtx,
    )
    expect(myProxy.fix).toContain('not a token problem')
  })
})

describe('diagnoseLoginError: Aurora DSQL', () => {
  const dsqlHost = 'abcdefghijklmnopqrst.dsql.eu-west-1.on.aws'
  const dsqlCtx: LoginContext = {
    ...pgCtx,
    service: 'dsql',
    user: 'admin',
    connectHost: dsqlHost,
    signingHost: dsqlHost,
    certNames: [dsqlHost],
  }

  it('admin refused (IAM authentication failed, 28000) → dsql:DbConnectAdmin first, no RDS advice', () => {
    const d = diagnoseLoginError(
      { code: '28000', message: 'IAM authentication failed for user "admin"' },
      { ...dsqlCtx, account: '123456789012' },
    )
    const lines = d.fix.split('\n')
    expect(lines[0]).toBe('Aurora DSQL refused the token; likely causes, most likely first:')
    expect(lines[1]).toContain(
      'dsql:DbConnectAdmin on arn:aws:dsql:eu-west-1:123456789012:cluster/abcdefghijklmnopqrst',
    )
    expect(d.fix).toContain(`signed for ${dsqlHost} (DSQL tokens name the host, no port)`)
    expect(d.fix).not.toMatch(/rds_iam|rds-db:connect|AWS IAM GRANT|enable-iam-database-authentication/)
  })

  it('another role → dsql:DbConnect and the AWS IAM GRANT mapping, with the principal when known', () => {
    const known = diagnoseLoginError(
      { code: '28000', message: 'IAM authentication failed for user "app"' },
      { ...dsqlCtx, user: 'app', principalArn: 'arn:aws:iam::123456789012:role/app-task' },
    )
    expect(known.fix).toContain('(1) the IAM policy of these credentials must allow dsql:DbConnect on')
    expect(known.fix).toContain(`AWS IAM GRANT "app" TO 'arn:aws:iam::123456789012:role/app-task';`)
    const unknown = diagnoseLoginError(
      { code: '28000', message: 'IAM authentication failed for user "app"' },
      { ...dsqlCtx, user: 'app' },
    )
    expect(unknown.fix).toContain(`AWS IAM GRANT "app" TO '<your IAM role ARN>';`)
  })

  it('through a tunnel without --signing-host the tunnel is the first cause; a missing role gets CREATE ROLE + AWS IAM GRANT', () => {
    const tunnel = diagnoseLoginError(
      { code: '28000', message: 'IAM authentication failed for user "admin"' },
      { ...dsqlCtx, connectHost: '127.0.0.1', signingHost: '127.0.0.1' },
    )
    expect(tunnel.fix.split('\n')[1]).toContain('pass --signing-host <cluster-id>.dsql.<region>.on.aws')
    const missing = diagnoseLoginError(
      { code: '28000', message: 'role "app" does not exist' },
      { ...dsqlCtx, user: 'app' },
    )
    expect(missing.fix).toContain('CREATE ROLE "app" WITH LOGIN; AWS IAM GRANT "app" TO')
    expect(missing.fix).not.toContain('rds_iam')
  })

  it('iamPrincipalArn: an assumed-role session becomes its role ARN; other ARNs are kept', () => {
    expect(iamPrincipalArn('arn:aws:sts::123456789012:assumed-role/app-task/i-0abc')).toBe(
      'arn:aws:iam::123456789012:role/app-task',
    )
    expect(iamPrincipalArn('arn:aws-cn:sts::123456789012:assumed-role/r/s')).toBe(
      'arn:aws-cn:iam::123456789012:role/r',
    )
    expect(iamPrincipalArn('arn:aws:iam::123456789012:user/doctor')).toBe(
      'arn:aws:iam::123456789012:user/doctor',
    )
  })
})
