import { RdsIamError } from '@rds-iam/core'
import { describe, expect, test } from 'vitest'
import { getRdsIamError, isPrismaAuthError, prepareForPrisma } from './prisma-errors.js'

// The shapes below are copied from what Prisma 7.10 threw in this package's tests and in the
// experiments of DESIGN §5 (driver adapters over pg and mariadb, through the emulator).
const known = (code: string, meta?: object) =>
  Object.assign(new Error(`Invalid \`prisma.user.findMany()\` invocation`), {
    name: 'PrismaClientKnownRequestError',
    code,
    meta,
    clientVersion: '7.10.0',
  })

describe('isPrismaAuthError', () => {
  test.each([
    ['P1010 (model query, pg 28000)', known('P1010', { modelName: 'User' })],
    ['P1000 (pg 28P01)', known('P1000')],
    [
      'P2010 raw query with driverAdapterError cause 28000',
      known('P2010', {
        driverAdapterError: {
          name: 'DriverAdapterError',
          cause: {
            originalCode: '28000',
            originalMessage: 'PAM authentication failed for user "app"',
            kind: 'DatabaseAccessDenied',
          },
        },
      }),
    ],
    [
      'P2010 with a MySQL 1045',
      known('P2010', {
        driverAdapterError: { cause: { originalCode: '1045', kind: 'AuthenticationFailed' } },
      }),
    ],
    [
      'P2039 with the mariadb pool timeout 45028 caused by an access denial',
      known('P2039', {
        driverAdapterError: {
          cause: {
            originalCode: '45028',
            kind: 'mysql',
            message: 'pool timeout: failed to retrieve a connection from pool after 10001ms',
            cause:
              "(conn:12, no: 1045, SQLState: 28000) Access denied for user 'app'@'127.0.0.1' (using password: YES)",
          },
        },
      }),
    ],
    [
      'a DriverAdapterError itself',
      Object.assign(new Error('DatabaseAccessDenied'), {
        name: 'DriverAdapterError',
        cause: { originalCode: '28000', kind: 'DatabaseAccessDenied' },
      }),
    ],
    ['a pg error', Object.assign(new Error('PAM authentication failed for user "app"'), { code: '28000' })],
  ])('%s → true', (_name, err) => {
    expect(isPrismaAuthError(err)).toBe(true)
  })

  test.each([
    ['a unique violation P2002', known('P2002', { target: ['email'] })],
    [
      'the pg TLS refusal (28000, no encryption)',
      known('P2010', {
        driverAdapterError: {
          cause: {
            originalCode: '28000',
            originalMessage:
              'pg_hba.conf rejects connection for host "1.2.3.4", user "app", database "db", no encryption',
          },
        },
      }),
    ],
    [
      'a pool timeout without an access denial',
      known('P2039', { driverAdapterError: { cause: { originalCode: '45028', message: 'pool timeout' } } }),
    ],
    [
      'an RdsIamError we gave up on',
      new RdsIamError('RDS_IAM_AUTH_FAILED', 'failed', 'hint', { cause: { code: '28000' } }),
    ],
    ['a string', 'P1010'],
    ['null', null],
  ])('%s → false', (_name, err) => {
    expect(isPrismaAuthError(err)).toBe(false)
  })
})

describe('getRdsIamError / prepareForPrisma', () => {
  test('the RdsIamError survives the way Prisma rebuilds errors (code, message and a spread of meta)', () => {
    const driver = Object.assign(new Error('PAM authentication failed for user "app"'), { code: '28000' })
    const original = prepareForPrisma(
      new RdsIamError('RDS_IAM_AUTH_FAILED', 'IAM authentication failed', 'grant rds_iam', { cause: driver }),
    ) as RdsIamError & { meta: Record<string, unknown> }
    // What Prisma's request handler does with an adapter error that has a `code`:
    const rebuilt = known(original.code, { modelName: 'User', ...original.meta })
    const found = getRdsIamError(rebuilt)
    expect(found).toBe(original)
    expect(found?.cause).toBe(driver)
    expect(rebuilt.meta).toMatchObject({
      rdsIam: { code: 'RDS_IAM_AUTH_FAILED', hint: 'grant rds_iam' },
      cause: { code: '28000', message: 'PAM authentication failed for user "app"' },
    })
    expect(JSON.parse(JSON.stringify(rebuilt.meta))).not.toHaveProperty('error')
  })

  test('other errors pass through unchanged and yield nothing', () => {
    const plain = new Error('boom')
    expect(prepareForPrisma(plain)).toBe(plain)
    expect(getRdsIamError(plain)).toBeUndefined()
    expect(getRdsIamError(known('P2002'))).toBeUndefined()
  })
})
