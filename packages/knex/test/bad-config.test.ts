import { type CountingEndpoint, runBadConfigCases } from '@rds-iam/testkit'
import { expect, test } from 'vitest'
import { type IamKnexConfig, withIam } from '../src/index.js'
import { loadKnexVersion } from './knex-harness.js'

const knex = loadKnexVersion('knex')
const iam = { region: 'us-east-1', credentials: { accessKeyId: 'AKIABADCONFIG', secretAccessKey: 'x' } }
const conn = (s: CountingEndpoint, extra: Record<string, unknown> = {}) => ({
  host: s.host,
  port: s.port,
  user: 'app',
  database: 'db',
  iam,
  ...extra,
})
// Builds the knex instance as a user would, so anything that slipped through would try to connect.
const open = (config: unknown) => knex(withIam(config as IamKnexConfig, { knex }))
const unsupported = (client: string, mentions: RegExp) => ({
  name: `client '${client}'`,
  make: (s: CountingEndpoint) => open({ client, connection: conn(s) }),
  code: 'RDS_IAM_UNSUPPORTED_DRIVER' as const,
  mentions,
})

runBadConfigCases(
  'knex',
  [
    {
      name: 'pg: iam together with a static password',
      make: (s) => open({ client: 'pg', connection: conn(s, { password: 'secret' }) }),
      mentions: /password/,
    },
    {
      name: 'mysql2: iam together with a static password',
      make: (s) => open({ client: 'mysql2', connection: conn(s, { password: 'secret' }) }),
      mentions: /password/,
    },
    {
      name: 'pg: a password in the URL connection',
      make: (s) => open({ client: 'pg', connection: `postgres://app:secret@${s.host}:${s.port}/db`, iam }),
      mentions: /password/,
    },
    {
      name: 'mysql2: a password in the URL connection',
      make: (s) => open({ client: 'mysql2', connection: `mysql://app:secret@${s.host}:${s.port}/db`, iam }),
      mentions: /password/,
    },
    {
      name: 'pg: a password in connection.connectionString',
      make: (s) =>
        open({
          client: 'pg',
          connection: { connectionString: `postgres://app:secret@${s.host}:${s.port}/db`, iam },
        }),
      mentions: /password/,
    },
    unsupported('sqlite3', /SQLite/),
    unsupported('sqlite', /SQLite/),
    unsupported('better-sqlite3', /SQLite/),
    unsupported('mssql', /SQL Server/),
    unsupported('oracledb', /Oracle/),
    unsupported('oracle', /Oracle/),
    unsupported('pgnative', /libpq|client: 'pg'/),
    unsupported('mysql', /client: 'mysql2'/),
    unsupported('mariadb', /client: 'mysql2'/),
    unsupported('cockroachdb', /client: 'pg'/),
    unsupported('redshift', /Redshift/),
    unsupported('postgress', /client: 'pg'/),
    {
      name: 'pg with native: true (pg-native)',
      make: (s) => open({ client: 'pg', connection: conn(s, { native: true }) }),
      code: 'RDS_IAM_UNSUPPORTED_DRIVER',
      mentions: /native/,
    },
    {
      name: 'an unknown iam key',
      make: (s) => open({ client: 'pg', connection: conn(s, { iam: { ...iam, regoin: 'x' } }) }),
      mentions: /regoin/,
    },
    {
      name: 'an unknown top-level iam key with a URL connection',
      make: (s) =>
        open({
          client: 'mysql2',
          connection: `mysql://app@${s.host}:${s.port}/db`,
          iam: { sigingHost: 'x' },
        }),
      mentions: /sigingHost/,
    },
    {
      name: 'iam both at the top level and in connection',
      make: (s) => open({ client: 'pg', connection: conn(s), iam }),
      mentions: /connection\.iam|top-level/,
    },
    {
      name: 'a connection function (knex would freeze the token)',
      make: (s) => open({ client: 'pg', connection: () => conn(s) }),
      mentions: /connection` function|caches/,
    },
    {
      name: 'an async connection function with an expirationChecker',
      make: (s) =>
        open({ client: 'mysql2', connection: async () => ({ ...conn(s), expirationChecker: () => false }) }),
      mentions: /caches/,
    },
    {
      name: 'pool.propagateCreateError: false',
      make: (s) => open({ client: 'pg', connection: conn(s), pool: { propagateCreateError: false } }),
      mentions: /propagateCreateError/,
    },
    {
      name: 'an external connectionPool (knex 3.3)',
      make: (s) => open({ client: 'pg', connection: conn(s), connectionPool: {} }),
      mentions: /connectionPool/,
    },
    { name: 'no client', make: (s) => open({ connection: conn(s) }), mentions: /client/ },
    {
      name: 'a client class instead of a name',
      make: (s) => open({ client: (knex as unknown as { Client: unknown }).Client, connection: conn(s) }),
      mentions: /client: 'pg'/,
    },
    {
      name: 'withIam applied twice',
      make: (s) => open(withIam({ client: 'pg', connection: conn(s) }, { knex })),
      mentions: /withIam once/,
    },
    { name: 'no connection', make: () => open({ client: 'pg' }), mentions: /connection/ },
    {
      name: 'a connection that is an array',
      make: () => open({ client: 'pg', connection: [] }),
      mentions: /connection/,
    },
    {
      name: 'a connection string that is not a URL',
      make: () => open({ client: 'pg', connection: 'host=db user=app' }),
      mentions: /URL/,
    },
    {
      name: 'a mysql:// URL with client pg',
      make: (s) => open({ client: 'pg', connection: `mysql://app@${s.host}:${s.port}/db`, iam }),
      mentions: /postgres:\/\//,
    },
    {
      name: 'pg: ssl: false without iam.insecure',
      make: (s) => open({ client: 'pg', connection: conn(s, { ssl: false }) }),
      code: 'RDS_IAM_INSECURE_TRANSPORT',
      mentions: /insecure/,
    },
    {
      name: 'mysql2: ssl: false without iam.insecure',
      make: (s) => open({ client: 'mysql2', connection: conn(s, { ssl: false }) }),
      code: 'RDS_IAM_INSECURE_TRANSPORT',
      mentions: /insecure/,
    },
    {
      name: 'pg: sslmode=disable in the URL without iam.insecure',
      make: (s) =>
        open({ client: 'pg', connection: `postgres://app@${s.host}:${s.port}/db?sslmode=disable`, iam }),
      code: 'RDS_IAM_INSECURE_TRANSPORT',
      mentions: /insecure/,
    },
    {
      name: 'no host',
      make: (s) => open({ client: 'pg', connection: conn(s, { host: undefined }) }),
      mentions: /host/,
    },
    {
      name: 'no user',
      make: (s) => open({ client: 'mysql2', connection: conn(s, { user: undefined }) }),
      mentions: /user/,
    },
    {
      name: 'mysql2: a socketPath',
      make: (s) => open({ client: 'mysql2', connection: conn(s, { socketPath: '/tmp/mysql.sock' }) }),
      mentions: /socketPath/,
    },
    { name: 'a config that is not an object', make: () => open('postgres://app@db/app'), mentions: /config/ },
  ],
  { clearEnv: ['PGHOST', 'PGPORT', 'PGUSER'] },
)

test('knex aliases postgres and postgresql and the dialect key are accepted', () => {
  for (const config of [
    { client: 'postgres', connection: { host: 'db.abc.us-east-1.rds.amazonaws.com', user: 'app' } },
    { client: 'postgresql', connection: { host: 'db.abc.us-east-1.rds.amazonaws.com', user: 'app' } },
    { dialect: 'pg', connection: 'postgres://app@db.abc.us-east-1.rds.amazonaws.com:5432/app' },
  ]) {
    const out = withIam(config, { knex }) as { client: unknown; connection: Record<string, unknown> }
    expect(typeof out.client).toBe('function')
    expect(out.connection.host).toBe('db.abc.us-east-1.rds.amazonaws.com')
    expect(typeof out.connection.password).toBe('function')
    expect('dialect' in out).toBe(false)
  }
})

test('the config knex receives keeps the user options and loses iam', () => {
  const out = withIam(
    {
      client: 'mysql2',
      connection: {
        host: 'db.abc.us-east-1.rds.amazonaws.com',
        user: 'app',
        database: 'app',
        charset: 'utf8mb4',
        iam: true,
      },
      pool: { min: 1, max: 7 },
      searchPath: ['app'],
    },
    { knex },
  ) as Record<string, unknown> & { connection: Record<string, unknown> }
  expect(out.pool).toEqual({ min: 1, max: 7 })
  expect(out.searchPath).toEqual(['app'])
  expect(out.connection.charset).toBe('utf8mb4')
  expect(out.connection.port).toBe(3306)
  expect('iam' in out.connection).toBe(false)
  expect(typeof (out.connection.authPlugins as Record<string, unknown>).mysql_clear_password).toBe('function')
})
