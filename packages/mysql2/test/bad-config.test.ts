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
    // Security review, item 4: mysql2 3.9 logs in with `?password=`; rds-iam used to drop it silently.
    name: 'a password in the uri query (?password=)',
    make: (s) => createPool({ uri: `mysql://app@${s.host}:${s.port}/db?password=secret`, iam: true }),
    mentions: /\?password=/,
  },
  {
    name: 'a password1 in the uri query',
    make: (s) => withIam({ uri: `mysql://app@${s.host}:${s.port}/db?password1=secret` }),
    mentions: /password1/,
  },
  {
    name: 'iam together with password1 (mysql2’s alias of password)',
    make: (s) => createPool({ ...base(s), password1: 'secret' } as never),
    mentions: /password1/,
  },
  {
    name: 'iam together with passwordSha1',
    make: (s) => withIam({ ...base(s), passwordSha1: 'secret' } as never),
    mentions: /passwordSha1/,
  },
  {
    // Security review, item 3: mysql2 never hands ssl.crl / ssl.pfx to Node, so they did nothing.
    name: 'ssl.crl, which mysql2 ignores',
    make: (s) => createPool({ ...base(s), ssl: { crl: 'PEM' } as never }),
    mentions: /crl/,
  },
  {
    name: 'ssl.pfx, which mysql2 ignores',
    make: (s) => withIam({ ...base(s), ssl: { pfx: 'PFX' } as never }),
    mentions: /ssl\.cert and ssl\.key/,
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
