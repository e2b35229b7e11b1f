import { type CountingEndpoint, runBadConfigCases } from '@rds-iam/testkit'
import { DataSource } from 'typeorm'
import { withIam } from '../src/index.js'

const iam = { region: 'us-east-1' }
const pgBase = (e: CountingEndpoint) => ({
  type: 'postgres' as const,
  host: e.host,
  port: e.port,
  username: 'app',
  database: 'app',
  iam,
})
const mysqlBase = (e: CountingEndpoint) => ({ ...pgBase(e), type: 'mysql' as const })
// Some cases are options TypeORM's types (rightly) refuse; a JavaScript user can still pass them.
const loose = (options: Record<string, unknown>) => withIam(options as never)
/** `expected`, in a text that names neither driver's URL option (message and hint are matched together). */
const notDriverUrl = (expected: RegExp) =>
  new RegExp(`^(?![^]*(connectionString|\`uri\`))[^]*${expected.source}`)

// Every case points at a server that counts connection attempts: withIam must refuse the options
// with a typed error naming the fix, and nothing may be sent anywhere.
runBadConfigCases(
  'typeorm',
  [
    ...['sqlite', 'better-sqlite3', 'mssql', 'oracle', 'cockroachdb', 'mongodb', 'sqljs', 'spanner'].map(
      (type) => ({
        name: `type '${type}' (no IAM database authentication)`,
        make: (e: CountingEndpoint) => loose({ ...pgBase(e), type }),
        code: 'RDS_IAM_UNSUPPORTED_DRIVER' as const,
        mentions: /'postgres', 'mysql' or 'mariadb'/,
      }),
    ),
    {
      name: "type 'aurora-postgres' (the Data API driver)",
      make: (e) => loose({ ...pgBase(e), type: 'aurora-postgres' }),
      code: 'RDS_IAM_UNSUPPORTED_DRIVER',
      mentions: /Data API.*type 'postgres'/,
    },
    {
      name: 'no type',
      make: (e) => loose({ ...pgBase(e), type: undefined }),
      code: 'RDS_IAM_UNSUPPORTED_DRIVER',
      mentions: /type/,
    },
    { name: 'options that are not an object', make: () => loose(null as never), mentions: /object/ },
    {
      name: 'iam with a static password',
      make: (e) => loose({ ...pgBase(e), password: 'secret' }),
      mentions: /`password`/,
    },
    {
      name: 'iam with a password on mysql',
      make: (e) => loose({ ...mysqlBase(e), password: 'secret' }),
      mentions: /`password`/,
    },
    {
      name: 'a password inside a postgres url',
      make: (e) => withIam({ type: 'postgres', url: `postgres://app:secret@${e.host}:${e.port}/app`, iam }),
      mentions: /`url` contains a password/,
    },
    {
      name: 'a password inside a mysql url',
      make: (e) => withIam({ type: 'mysql', url: `mysql://app:secret@${e.host}:${e.port}/app`, iam }),
      mentions: /`url` contains a password/,
    },
    {
      name: 'a url that is not a URL',
      make: () => withIam({ type: 'postgres', url: 'not a url', iam }),
      mentions: /url/,
    },
    {
      name: '`extra` that sets its own password',
      make: (e) => withIam({ ...pgBase(e), extra: { password: 'secret' } }),
      mentions: /extra\.password/,
    },
    {
      name: '`extra` that sets its own password (mysql)',
      make: (e) => withIam({ ...mysqlBase(e), extra: { password: 'secret' } }),
      mentions: /extra\.password/,
    },
    {
      name: '`iam` inside `extra` (or withIam applied twice)',
      make: (e) => withIam(withIam(pgBase(e)) as never),
      mentions: /top level/,
    },
    {
      name: 'an unknown iam key',
      make: (e) => loose({ ...pgBase(e), iam: { region: 'us-east-1', regoin: 'eu-west-1' } }),
      mentions: /regoin/,
    },
    { name: 'iam of the wrong type', make: (e) => loose({ ...pgBase(e), iam: 'yes' }), mentions: /iam/ },
    {
      name: 'no username',
      make: (e) => withIam({ ...pgBase(e), username: undefined }),
      mentions: /`username`/,
    },
    // The missing host is named as TypeORM spells it (`host` / `url`), never as the driver's
    // `connectionString` / `uri`, which a TypeORM user never wrote.
    {
      name: 'no host (postgres)',
      make: () => withIam({ type: 'postgres', username: 'app', database: 'app', iam }),
      mentions: notDriverUrl(/no `host`.*set `host`.*`url` with a host/),
    },
    {
      name: 'no host (mysql)',
      make: () => withIam({ type: 'mysql', username: 'app', database: 'app', iam }),
      mentions: notDriverUrl(/no `host`.*set `host`.*`url` with a host/),
    },
    {
      name: 'a postgres url without a host',
      make: () => withIam({ type: 'postgres', url: 'postgres:///app', username: 'app', iam }),
      mentions: notDriverUrl(/no `host`.*`url` with a host/),
    },
    {
      // TypeORM's mysql driver parses `url` itself and its (empty) host replaces `host`.
      name: 'a mysql url without a host, beside a host it replaces',
      make: (e) => withIam({ ...mysqlBase(e), url: 'mysql:///app' }),
      mentions: notDriverUrl(/`url` has no host.*`host` is ignored.*put the RDS\/Aurora endpoint in `url`/),
    },
    {
      name: 'a replica without a host (postgres)',
      make: (e) =>
        withIam({
          type: 'postgres',
          replication: {
            master: { host: e.host, port: e.port, username: 'app' },
            slaves: [{ username: 'app' }],
          },
          iam,
        }),
      mentions: notDriverUrl(/set `replication\.slaves\[0\]\.host`.*`replication\.slaves\[0\]\.url`/),
    },
    {
      name: 'a master without a host, the host written at the top level (mysql)',
      make: (e) =>
        withIam({
          type: 'mysql',
          host: e.host,
          replication: { master: { port: e.port, username: 'app' }, slaves: [] },
          iam,
        }),
      mentions: notDriverUrl(/ignores the top-level `host`.*set `replication\.master\.host`/),
    },
    {
      // TypeORM's mysql driver parses `url` itself and its (empty) user replaces `username`: plain
      // TypeORM would log in as '' too (test/mysql-url.test.ts, on every TypeORM version).
      name: 'a mysql url without a user, beside a username it replaces',
      make: (e) => withIam({ ...mysqlBase(e), url: `mysql://${e.host}:${e.port}/app` }),
      mentions: notDriverUrl(
        /`url` has no user.*`username` is ignored.*put the IAM database user in `url` \(mysql:\/\/app@/,
      ),
    },
    {
      name: 'a mysql url without a user, and no username',
      make: (e) => withIam({ type: 'mysql', url: `mysql://${e.host}:${e.port}/app`, iam }),
      mentions: notDriverUrl(/`url` has no user.*put the IAM database user in `url`/),
    },
    {
      name: 'a mariadb replica url without a user, beside the replica username',
      make: (e) =>
        withIam({
          type: 'mariadb',
          replication: {
            master: { host: e.host, port: e.port, username: 'app' },
            slaves: [{ url: `mysql://${e.host}:${e.port}/app`, username: 'app' }],
          },
          iam,
        }),
      mentions: notDriverUrl(
        /`replication\.slaves\[0\]\.url` has no user.*`replication\.slaves\[0\]\.username` is ignored.*put the IAM database user in `replication\.slaves\[0\]\.url`/,
      ),
    },
    {
      // TypeORM's MysqlDriver gives every node's pool the top-level `ssl`; a node's own is never
      // read (test/replication.test.ts, on every TypeORM version).
      name: "a replica's own ssl with mysql replication",
      make: (e) =>
        withIam({
          type: 'mysql',
          replication: {
            master: { host: e.host, port: e.port, username: 'app' },
            slaves: [
              { host: e.host, port: e.port, username: 'app', ssl: { ca: 'a CA the pool would never get' } },
            ],
          },
          iam,
        }),
      mentions: /`replication\.slaves\[0\]\.ssl` is set.*ignored.*put `ssl` at the top level/,
    },
    {
      name: "the master's own ssl with mysql replication, beside a top-level ssl",
      make: (e) =>
        withIam({
          type: 'mysql',
          ssl: { ca: 'the CA every node gets' },
          replication: {
            master: { host: e.host, port: e.port, username: 'app', ssl: { ca: 'a CA never read' } },
            slaves: [],
          },
          iam,
        }),
      mentions: /`replication\.master\.ssl` is set.*remove `replication\.master\.ssl`/,
    },
    // A Unix socket is named where it was written, per replica (core's own hint says `host` only).
    {
      name: 'a replica host that is a Unix socket path (mysql)',
      make: (e) =>
        withIam({
          type: 'mysql',
          replication: {
            master: { host: e.host, port: e.port, username: 'app' },
            slaves: [{ host: '/var/run/mysqld/mysqld.sock', username: 'app' }],
          },
          iam,
        }),
      mentions:
        /`replication\.slaves\[0\]\.host` is a Unix socket.*set `replication\.slaves\[0\]\.host` to the RDS/,
    },
    {
      name: 'a replica host that is a Unix socket directory (postgres)',
      make: (e) =>
        withIam({
          type: 'postgres',
          replication: {
            master: { host: e.host, port: e.port, username: 'app' },
            slaves: [{ host: '/var/run/postgresql', username: 'app' }],
          },
          iam,
        }),
      mentions:
        /`replication\.slaves\[0\]\.host` is a Unix socket.*set `replication\.slaves\[0\]\.host` to the RDS/,
    },
    {
      name: 'a replica url whose ?host= is a Unix socket directory (postgres)',
      make: (e) =>
        withIam({
          type: 'postgres',
          replication: {
            master: { host: e.host, port: e.port, username: 'app' },
            slaves: [{ url: `postgres://app@${e.host}/app?host=/var/run/postgresql` }],
          },
          iam,
        }),
      mentions: notDriverUrl(
        /`replication\.slaves\[0\]\.url` names a Unix socket.*`replication\.slaves\[0\]\.url`/,
      ),
    },
    {
      name: 'a socketPath on a replica (mysql)',
      make: (e) =>
        withIam({
          type: 'mysql',
          replication: {
            master: { host: e.host, port: e.port, username: 'app' },
            slaves: [{ host: e.host, username: 'app', socketPath: '/var/run/mysqld/mysqld.sock' }],
          },
          iam,
        }),
      mentions: /`replication\.slaves\[0\]\.socketPath`.*set `replication\.slaves\[0\]\.host`/,
    },
    {
      // TypeORM's PostgresDriver reads each node's own `ssl` with replication: the top-level CA
      // would never reach a pool (the login would then fail with a raw certificate error).
      name: 'a top-level ssl with postgres replication',
      make: (e) =>
        withIam({
          type: 'postgres',
          ssl: { ca: 'a CA the nodes would never get' },
          replication: { master: { host: e.host, port: e.port, username: 'app' }, slaves: [] },
          iam,
        }),
      mentions: /ignored.*move `ssl` into `replication\.master` and each entry of `replication\.slaves`/,
    },
    {
      name: 'a top-level ssl: false with postgres replication (ignored by TypeORM, so refused too)',
      make: (e) =>
        withIam({
          type: 'postgres',
          ssl: false,
          replication: {
            master: { host: e.host, port: e.port, username: 'app' },
            slaves: [{ host: e.host, port: e.port, username: 'app' }],
          },
          iam: { ...iam, insecure: true },
        }),
      mentions: /top-level `ssl`.*replication\.master/,
    },
    {
      name: 'a replica with a static password',
      make: (e) =>
        withIam({
          type: 'postgres',
          replication: {
            master: { host: e.host, port: e.port, username: 'app' },
            slaves: [{ host: e.host, port: e.port, username: 'app', password: 'x' }],
          },
          iam,
        }),
      mentions: /replication\.slaves\[0\]\.password/,
    },
    {
      name: 'a replica without a username',
      make: (e) =>
        withIam({
          type: 'mysql',
          replication: {
            master: { host: e.host, port: e.port, username: 'app' },
            slaves: [{ host: e.host, port: e.port }],
          },
          iam,
        }),
      mentions: /replication\.slaves\[0\]\.username/,
    },
    {
      name: 'ssl: false without iam.insecure (postgres)',
      make: (e) => withIam({ ...pgBase(e), ssl: false }),
      code: 'RDS_IAM_INSECURE_TRANSPORT',
      mentions: /insecure/,
    },
    {
      name: 'ssl: false without iam.insecure (mysql)',
      make: (e) => loose({ ...mysqlBase(e), ssl: false }),
      code: 'RDS_IAM_INSECURE_TRANSPORT',
      mentions: /insecure/,
    },
    {
      name: 'unverified TLS (ssl.rejectUnauthorized false) without iam.insecure (postgres)',
      make: (e) => withIam({ ...pgBase(e), ssl: { rejectUnauthorized: false } }),
      code: 'RDS_IAM_INSECURE_TRANSPORT',
      mentions: /insecure/,
    },
    {
      name: 'unverified TLS (ssl.rejectUnauthorized false) without iam.insecure (mysql)',
      make: (e) => withIam({ ...mysqlBase(e), ssl: { rejectUnauthorized: false } }),
      code: 'RDS_IAM_INSECURE_TRANSPORT',
      mentions: /insecure/,
    },
    {
      name: 'unverified TLS on a replica only (postgres)',
      make: (e) =>
        withIam({
          type: 'postgres',
          replication: {
            master: { host: e.host, port: e.port, username: 'app' },
            slaves: [{ host: e.host, port: e.port, username: 'app', ssl: { rejectUnauthorized: false } }],
          },
          iam,
        }),
      code: 'RDS_IAM_INSECURE_TRANSPORT',
      mentions: /insecure/,
    },
    {
      name: 'a Unix socket (mysql socketPath)',
      make: (e) => withIam({ ...mysqlBase(e), socketPath: '/var/run/mysqld/mysqld.sock' }),
      mentions: /socketPath/,
    },
    {
      name: 'pg-native requested with nativeDriver',
      make: (e) => loose({ ...pgBase(e), nativeDriver: {} }),
      code: 'RDS_IAM_UNSUPPORTED_DRIVER',
      mentions: /nativeDriver/,
    },
    {
      name: 'a pg-native-like module passed as driver',
      make: (e) => loose({ ...pgBase(e), driver: { Pool: class {}, Client: class {} } }),
      code: 'RDS_IAM_UNSUPPORTED_DRIVER',
      mentions: /JavaScript pg driver/,
    },
    {
      name: "connectorPackage: 'mysql' (the old mysqljs driver)",
      make: (e) => withIam({ ...mysqlBase(e), connectorPackage: 'mysql' }),
      code: 'RDS_IAM_UNSUPPORTED_DRIVER',
      mentions: /mysql2/,
    },
    {
      name: 'a TypeORM older than 0.3 (mysql)',
      make: (e) => withIam(mysqlBase(e), { typeormVersion: '0.2.45' }),
      code: 'RDS_IAM_UNSUPPORTED_DRIVER',
      mentions: /0\.3\.20/,
    },
    {
      name: 'a bad port, found by @rds-iam/pg, through a DataSource that is then initialized',
      async make(e) {
        // A DataSource is never built from refused options; nothing reaches initialize().
        await new DataSource(withIam({ ...pgBase(e), port: 70000 })).initialize()
      },
      mentions: /port/,
    },
  ],
  { clearEnv: ['PGHOST', 'PGUSER', 'PGPORT', 'PGPASSWORD'] },
)
