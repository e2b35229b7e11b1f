import { type CountingEndpoint, runBadConfigCases } from '@rds-iam/testkit'
import { expect, test } from 'vitest'
import { Client, Pool, withIam } from '../src/index.js'

const base = (s: CountingEndpoint) => ({
  host: s.host,
  port: s.port,
  user: 'app',
  database: 'db',
  iam: { region: 'us-east-1' },
})

runBadConfigCases(
  'pg',
  [
    { name: 'no host', make: (s) => withIam({ ...base(s), host: undefined }), mentions: /host/ },
    { name: 'empty host', make: (s) => new Pool({ ...base(s), host: '' }), mentions: /host/ },
    {
      name: 'a Unix socket host',
      make: (s) => new Pool({ ...base(s), host: '/var/run/postgresql' }),
      mentions: /host/,
    },
    {
      name: 'a non-numeric port string',
      make: (s) => new Pool({ ...base(s), port: 'abc' as unknown as number }),
      mentions: /port/,
    },
    { name: 'a port out of range', make: (s) => new Client({ ...base(s), port: 70000 }), mentions: /port/ },
    // Review finding: these were accepted and ended in an untyped ENOTFOUND.
    {
      name: 'a port inside host',
      make: (s) => new Pool({ ...base(s), host: `db.abc123.us-east-1.rds.amazonaws.com:${s.port}` }),
      mentions: /`port`/,
    },
    {
      name: 'a port inside host and port set too',
      make: (s) => new Client({ ...base(s), host: `${s.host}:${s.port}` }),
      mentions: /`port`/,
    },
    {
      name: 'a bracketed IPv6 address with a port in host',
      make: (s) => withIam({ ...base(s), host: `[::1]:${s.port}` }),
      mentions: /`port`/,
    },
    {
      name: 'a port inside PGHOST',
      make: (s) => {
        process.env.PGHOST = `${s.host}:${s.port}`
        return new Pool({ ...base(s), host: undefined })
      },
      mentions: /PGPORT/,
    },
    {
      name: 'an sslrootcert file that does not exist',
      make: (s) =>
        new Pool({
          connectionString: `postgres://app@${s.host}:${s.port}/db?sslrootcert=%2Fnonexistent%2Fca.pem`,
          iam: { region: 'us-east-1' },
        }),
      mentions: /sslrootcert=\/nonexistent\/ca\.pem.*ENOENT/,
    },
    {
      name: 'iam together with a password',
      make: (s) => new Pool({ ...base(s), password: 'secret' } as never),
      mentions: /password/,
    },
    {
      name: 'a password function with iam',
      make: (s) => new Client({ ...base(s), password: async () => 'x' } as never),
      mentions: /password/,
    },
    {
      name: 'a password in the connectionString',
      make: (s) => new Pool({ connectionString: `postgres://app:secret@${s.host}:${s.port}/db`, iam: true }),
      mentions: /password/,
    },
    {
      name: 'an unknown iam key',
      make: (s) => new Pool({ ...base(s), iam: { region: 'us-east-1', regoin: 'x' } as never }),
      mentions: /regoin/,
    },
    {
      name: 'an iam value of the wrong type',
      make: (s) => new Pool({ ...base(s), iam: 'yes' as never }),
      mentions: /iam/,
    },
    { name: 'no user', make: (s) => new Pool({ ...base(s), user: undefined }), mentions: /user/ },
    { name: 'a config that is not an object', make: () => withIam(null as never), mentions: /config/ },
    {
      name: 'Pool without iam',
      make: (s) => new Pool({ host: s.host, port: s.port, user: 'app' } as never),
      mentions: /iam/,
    },
    {
      name: 'ssl: false without iam.insecure',
      make: (s) => new Pool({ ...base(s), ssl: false }),
      code: 'RDS_IAM_INSECURE_TRANSPORT',
      mentions: /insecure/,
    },
    {
      name: 'pg-native (native: true)',
      make: (s) => new Pool({ ...base(s), native: true } as never),
      code: 'RDS_IAM_UNSUPPORTED_DRIVER',
      mentions: /native/,
    },
  ],
  { clearEnv: ['PGHOST', 'PGPORT', 'PGUSER'] },
)

test('an IPv6 address as host is not mistaken for host:port', () => {
  expect(withIam({ ...base({ host: '::1', port: 5999 }) }).host).toBe('::1')
})

test('a numeric port string is accepted as pg accepts it', () => {
  expect(
    withIam({ ...base({ host: '127.0.0.1', port: 5999 }), port: '5999' as unknown as number }).port,
  ).toBe(5999)
})
