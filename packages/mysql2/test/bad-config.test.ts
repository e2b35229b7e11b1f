import { type CountingEndpoint, runBadConfigCases } from '@rds-iam/testkit'
import { createConnection, createPool, withIam } from '../src/index.js'
import { createConnection as createPromiseConnection } from '../src/promise.js'

const base = (s: CountingEndpoint) => ({
  host: s.host,
  port: s.port,
  user: 'app',
  database: 'db',
  iam: { region: 'us-east-1' },
})

runBadConfigCases('mysql2', [
  { name: 'no host', make: (s) => withIam({ ...base(s), host: undefined }), mentions: /host/ },
  {
    name: 'a non-numeric port string',
    make: (s) => createPool({ ...base(s), port: 'abc' as unknown as number }),
    mentions: /port/,
  },
  {
    name: 'iam together with a password',
    make: (s) => createPool({ ...base(s), password: 'secret' } as never),
    mentions: /password/,
  },
  {
    name: 'a password in the uri',
    make: (s) => createPool({ uri: `mysql://app:secret@${s.host}:${s.port}/db`, iam: true }),
    mentions: /password/,
  },
  {
    name: 'an unknown iam key',
    make: (s) => createConnection({ ...base(s), iam: { retries: 3 } as never }),
    mentions: /retries/,
  },
  { name: 'no user', make: (s) => createPool({ ...base(s), user: undefined }), mentions: /user/ },
  {
    name: 'a socketPath',
    make: (s) => createPool({ ...base(s), socketPath: '/tmp/mysql.sock' }),
    mentions: /socket/,
  },
  { name: 'a config that is not an object', make: () => withIam(42 as never), mentions: /config/ },
  {
    name: 'createPool without iam',
    make: (s) => createPool({ host: s.host, port: s.port, user: 'app' } as never),
    mentions: /iam/,
  },
  {
    name: 'the promise createConnection with a password',
    make: (s) => createPromiseConnection({ ...base(s), password: 'x' } as never),
    mentions: /password/,
  },
  {
    name: 'ssl: false without iam.insecure',
    make: (s) => createPool({ ...base(s), ssl: false as never }),
    code: 'RDS_IAM_INSECURE_TRANSPORT',
    mentions: /insecure/,
  },
])
