import { requireService, TEST_URLS } from '@rds-iam/test-services'
import { describe, expect, it } from 'vitest'
import { isAuthError } from './auth-error.js'
import { RdsIamError } from './rds-iam-error.js'

// Error shapes as pg, mysql2, Sequelize, TypeORM and Prisma produce them.
const pgPam = Object.assign(new Error('PAM authentication failed for user "app"'), { code: '28000' })
const pgPassword = Object.assign(new Error('password authentication failed for user "app"'), {
  code: '28P01',
})
const pgNoSsl = Object.assign(
  new Error('pg_hba.conf rejects connection for host "10.0.0.1", user "app", database "db", no encryption'),
  { code: '28000' },
)
const mysqlDenied = Object.assign(
  new Error("Access denied for user 'app'@'10.0.0.1' (using password: YES)"),
  {
    code: 'ER_ACCESS_DENIED_ERROR',
    errno: 1045,
    sqlState: '28000',
  },
)

// Prisma 7 shapes (@prisma/client 7.10 with @prisma/adapter-pg / @prisma/adapter-mariadb).
const adapterCause = (originalCode: string, originalMessage: string, kind = 'DatabaseAccessDenied') => ({
  kind,
  originalCode,
  originalMessage,
})
const driverAdapterError = (cause: object) =>
  Object.assign(new Error('DriverAdapterError'), { name: 'DriverAdapterError', cause })
const prismaError = (code: string, cause: object) =>
  Object.assign(new Error('Raw query failed.'), {
    code,
    meta: { driverAdapterError: driverAdapterError(cause) },
  })
const mariadbPoolTimeout = Object.assign(
  new Error('pool timeout: failed to retrieve a connection from pool after 10001ms'),
  { errno: 45028, code: 'ER_GET_CONNECTION_TIMEOUT', cause: mysqlDenied },
)

describe('isAuthError', () => {
  it.each([
    ['pg PAM failure (28000)', pgPam],
    ['pg password failure (28P01)', pgPassword],
    ['PAM message without a code', new Error('FATAL: PAM authentication failed for user "x"')],
    ['mysql 1045', mysqlDenied],
    ['mysql errno only', Object.assign(new Error('denied'), { errno: 1045 })],
    ['cause chain', new Error('wrapped', { cause: pgPam })],
    [
      'Sequelize parent/original',
      Object.assign(new Error('SequelizeConnectionError'), { parent: pgPam, original: pgPam }),
    ],
    ['TypeORM-like original', Object.assign(new Error('x'), { original: mysqlDenied })],
    ['AggregateError', new AggregateError([new Error('ECONNREFUSED'), mysqlDenied])],
    ['Prisma P1000', Object.assign(new Error('Authentication failed'), { code: 'P1000' })],
    ['deeply nested', new Error('a', { cause: new Error('b', { cause: { parent: { errors: [pgPam] } } }) })],
    [
      'Prisma P2010, originalCode 28000',
      prismaError('P2010', adapterCause('28000', 'PAM authentication failed')),
    ],
    [
      'Prisma P2010, originalCode 28P01',
      prismaError('P2010', adapterCause('28P01', 'password authentication failed')),
    ],
    [
      'Prisma P2010, originalCode 1045',
      prismaError('P2010', adapterCause('1045', "Access denied for user 'app'")),
    ],
    ['DriverAdapterError with cause.originalCode 28000', driverAdapterError(adapterCause('28000', 'denied'))],
    [
      'Prisma P2039, originalCode 45028 whose message is an access denial',
      prismaError(
        'P2039',
        adapterCause(
          '45028',
          "pool timeout: failed to retrieve a connection from pool after 10001ms (Access denied for user 'app'@'10.0.0.1')",
          'GenericJs',
        ),
      ),
    ],
    [
      'Prisma P2039, originalCode 45028 whose cause is the 1045',
      prismaError('P2039', { ...adapterCause('45028', 'pool timeout', 'GenericJs'), cause: mysqlDenied }),
    ],
    ['the mariadb pool timeout whose cause is the 1045', mariadbPoolTimeout],
    [
      'Prisma P2039, originalCode 45028 whose cause is the denial as text',
      prismaError('P2039', {
        originalCode: '45028',
        message: 'pool timeout: failed to retrieve a connection from pool after 10001ms',
        cause:
          "(conn:12, no: 1045, SQLState: 28000) Access denied for user 'app'@'127.0.0.1' (using password: YES)",
      }),
    ],
  ])('%s → true', (_name, err) => {
    expect(isAuthError(err)).toBe(true)
  })

  it.each([
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['pg syntax error', Object.assign(new Error('syntax error'), { code: '42601' })],
    ['mysql unknown database', Object.assign(new Error('Unknown database'), { errno: 1049 })],
    // A TLS refusal: a new token cannot fix it (issue 8, item 10).
    ['pg no-TLS rejection (28000)', pgNoSsl],
    ['pg no-TLS rejection wrapped by an ORM', new Error('wrapped', { cause: pgNoSsl })],
    [
      'Prisma P2010 carrying the pg no-TLS rejection (originalCode 28000)',
      prismaError('P2010', adapterCause('28000', pgNoSsl.message)),
    ],
    [
      'Prisma P2039, originalCode 45028 with no access denial (a plain pool timeout)',
      prismaError(
        'P2039',
        adapterCause('45028', 'pool timeout: failed to retrieve a connection', 'GenericJs'),
      ),
    ],
    [
      'an RdsIamError wrapping a Prisma P2010 denial',
      new RdsIamError('RDS_IAM_AUTH_FAILED', 'IAM authentication failed after 3 attempts', 'fix', {
        cause: prismaError('P2010', adapterCause('28000', 'denied')),
      }),
    ],
    ['null', null],
    ['a string', 'PAM'],
    ['undefined', undefined],
  ])('%s → false', (_name, err) => {
    expect(isAuthError(err)).toBe(false)
  })

  it('is cycle-safe', () => {
    const a: Record<string, unknown> = { message: 'a' }
    const b: Record<string, unknown> = { message: 'b', cause: a }
    a.cause = b
    a.parent = a
    expect(isAuthError(a)).toBe(false)
    b.original = pgPam
    expect(isAuthError(a)).toBe(true)
  })
})

describe('isAuthError on real driver errors', () => {
  it('pg: a refused login (SQLSTATE 28000) from the local PostgreSQL', async (ctx) => {
    await requireService('postgres', { skip: (note) => ctx.skip(note) })
    const pg = (await import('pg')).default
    const url = new URL(TEST_URLS.postgres)
    url.username = `no_such_role_${Math.random().toString(36).slice(2)}`
    const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 })
    const err = await client.connect().catch((e: unknown) => e)
    await client.end().catch(() => {})
    expect(err).toMatchObject({ code: '28000' })
    expect(isAuthError(err)).toBe(true)
    expect(isAuthError(new Error('ORM wrapper', { cause: err }))).toBe(true)
  })

  it('mysql2: Access denied (errno 1045/1698) from the local MariaDB', async (ctx) => {
    await requireService('mysql', { skip: (note) => ctx.skip(note) })
    const mysql = await import('mysql2/promise')
    const url = new URL(TEST_URLS.mysql)
    const err = await mysql
      .createConnection({
        host: url.hostname,
        port: Number(url.port),
        user: `no_such_${Math.random().toString(36).slice(2, 10)}`,
        password: 'not-a-token',
        connectTimeout: 5000,
      })
      .then(async (c) => {
        await c.end()
        return undefined
      })
      .catch((e: unknown) => e)
    // MariaDB answers 1045, or 1698 on some handshakes for an unknown user; both are refusals.
    expect([1045, 1698]).toContain((err as { errno?: number }).errno)
    expect(isAuthError(err)).toBe(true)
    expect(isAuthError(Object.assign(new Error('SequelizeAccessDeniedError'), { parent: err }))).toBe(true)
  })
})
