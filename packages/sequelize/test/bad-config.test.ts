import { type BadConfigCase, runBadConfigCases } from '@rds-iam/testkit'
import { Sequelize } from 'sequelize'
import { addIamHooks, withIam } from '../src/index.js'

const iam = { region: 'us-east-1', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' } }
const base = (dialect: string, e: { host: string; port: number }) => ({
  dialect: dialect as 'postgres',
  host: e.host,
  port: e.port,
  username: 'app',
  database: 'app',
  logging: false,
  iam,
})
// `new Sequelize(withIam(...))`: the config must be refused before Sequelize even exists, so the
// case also runs a query in case it was not (the hang-up server counts any connection).
const open = async (options: ReturnType<typeof withIam>) => {
  const sequelize = new Sequelize(options)
  try {
    await sequelize.authenticate()
  } finally {
    await sequelize.close()
  }
}

const cases: BadConfigCase[] = [
  ...(['postgres', 'mysql'] as const).flatMap((dialect): BadConfigCase[] => [
    {
      name: `${dialect}: iam together with a static password`,
      make: (e) => open(withIam({ ...base(dialect, e), password: 'hunter2' } as never)),
      mentions: /password/,
    },
    {
      name: `${dialect}: iam with a password in the URL`,
      make: (e) => open(withIam(`${dialect}://app:hunter2@${e.host}:${e.port}/app`, { iam })),
      mentions: /password from the URL/,
    },
    {
      name: `${dialect}: a replica with a password`,
      make: (e) =>
        open(
          withIam({
            ...base(dialect, e),
            replication: { write: { host: e.host }, read: [{ host: e.host, password: 'x' }] },
          } as never),
        ),
      mentions: /replication\.read\[0\]/,
    },
    {
      name: `${dialect}: unknown iam key`,
      make: (e) => open(withIam({ ...base(dialect, e), iam: { regoin: 'eu-west-1' } } as never)),
      mentions: /iam\.regoin/,
    },
    {
      name: `${dialect}: ssl turned off without iam.insecure`,
      make: (e) => open(withIam({ ...base(dialect, e), dialectOptions: { ssl: false } })),
      code: 'RDS_IAM_INSECURE_TRANSPORT',
      mentions: /insecure/,
    },
    {
      name: `${dialect}: addIamHooks on an instance that has a password`,
      make: (e) => {
        const { iam: _iam, ...options } = base(dialect, e)
        const sequelize = new Sequelize({ ...options, password: 'hunter2' } as never)
        return addIamHooks(sequelize, iam)
      },
      mentions: /password/,
    },
  ]),
  ...['sqlite', 'mssql', 'oracle', 'db2', 'snowflake'].map(
    (dialect): BadConfigCase => ({
      name: `unsupported dialect ${dialect}`,
      make: (e) => open(withIam(base(dialect, e) as never)),
      code: 'RDS_IAM_UNSUPPORTED_DRIVER',
      mentions: /dialect: 'postgres' or 'mysql'/,
    }),
  ),
  {
    name: "dialect 'mariadb' (the connector sends the password before verifying the certificate)",
    make: (e) => open(withIam(base('mariadb', e) as never)),
    code: 'RDS_IAM_UNSUPPORTED_DRIVER',
    mentions: /dialect: 'mysql'/,
  },
  {
    name: "dialect 'mariadb' through addIamHooks",
    make: (e) => {
      const { iam: _iam, ...options } = base('mariadb', e)
      return addIamHooks(new Sequelize(options as never), iam)
    },
    code: 'RDS_IAM_UNSUPPORTED_DRIVER',
    mentions: /dialect: 'mysql'/,
  },
  {
    name: 'no dialect',
    make: (e) => open(withIam({ ...base('postgres', e), dialect: undefined })),
    mentions: /dialect/,
  },
  {
    name: 'postgres: native: true (pg-native)',
    make: (e) => open(withIam({ ...base('postgres', e), native: true })),
    code: 'RDS_IAM_UNSUPPORTED_DRIVER',
    mentions: /native/,
  },
  {
    name: 'postgres: dialectOptions.native',
    make: (e) => open(withIam({ ...base('postgres', e), dialectOptions: { native: true } })),
    code: 'RDS_IAM_UNSUPPORTED_DRIVER',
    mentions: /native/,
  },
  {
    name: 'postgres: a dialectModule that is not the JavaScript pg (pg.native)',
    make: (e) => open(withIam({ ...base('postgres', e), dialectModule: { Client: class NativeClient {} } })),
    code: 'RDS_IAM_UNSUPPORTED_DRIVER',
    mentions: /pg\.native|dialectModule/,
  },
  {
    name: 'postgres: ssl.rejectUnauthorized false without iam.insecure',
    make: (e) =>
      open(withIam({ ...base('postgres', e), dialectOptions: { ssl: { rejectUnauthorized: false } } })),
    code: 'RDS_IAM_INSECURE_TRANSPORT',
    mentions: /insecure/,
  },
  {
    name: 'mysql: dialectOptions.debug would print the token',
    make: (e) => open(withIam({ ...base('mysql', e), dialectOptions: { debug: true } })),
    mentions: /debug/,
  },
  // Sequelize's mysql dialect spreads dialectOptions over its own password: a static one there
  // would replace the token (mysql2 also logs in with password1 and the other factors).
  ...(['password', 'password1', 'password2', 'password3', 'passwordSha1'] as const).flatMap(
    (key): BadConfigCase[] => [
      {
        name: `mysql: ?${key}= in the URL given to withIam`,
        make: (e) => open(withIam(`mysql://app@${e.host}:${e.port}/app?${key}=hunter2`, { iam })),
        mentions: new RegExp(`\\?${key}=`),
      },
      {
        name: `mysql: dialectOptions.${key}`,
        make: (e) => open(withIam({ ...base('mysql', e), dialectOptions: { [key]: 'hunter2' } })),
        mentions: new RegExp(`dialectOptions\\.${key}\\b`),
      },
    ],
  ),
  {
    name: 'mysql: addIamHooks on new Sequelize(url) with ?password= (Sequelize puts it in dialectOptions)',
    make: (e) => addIamHooks(new Sequelize(`mysql://app@${e.host}:${e.port}/app?password=hunter2`), iam),
    mentions: /dialectOptions\.password/,
  },
  {
    name: 'postgres: ?password= in the URL given to withIam',
    make: (e) => open(withIam(`postgres://app@${e.host}:${e.port}/app?password=hunter2`, { iam })),
    mentions: /\?password=/,
  },
  ...(['crl', 'pfx'] as const).map(
    (key): BadConfigCase => ({
      name: `mysql: ssl.${key} (mysql2 never passes it to Node's TLS)`,
      make: (e) => open(withIam({ ...base('mysql', e), dialectOptions: { ssl: { [key]: 'x' } } })),
      mentions: new RegExp(`ssl\\.${key}`),
    }),
  ),
  {
    name: 'postgres: ssl.servername naming another host than the signed one',
    make: (e) =>
      open(withIam({ ...base('postgres', e), dialectOptions: { ssl: { servername: 'other.example.com' } } })),
    mentions: /ssl\.servername[\s\S]*signingHostname/,
  },
  {
    name: 'a port that is not a number',
    make: (e) => open(withIam({ ...base('postgres', e), port: 'db' as never })),
    mentions: /port/,
  },
  {
    // Sequelize's option is `username`; core's own hint says `user` (pg/mysql2's name).
    name: 'withIam without username names `username`, and addIamHooks for the four-argument form',
    make: (e) => {
      const { username: _u, ...options } = base('postgres', e)
      return open(withIam(options))
    },
    mentions: /`username`[\s\S]*new Sequelize\(database, username, password, options\)[\s\S]*addIamHooks/,
  },
  {
    // The common four-argument form: the user is outside the options withIam sees, so it is refused there.
    name: 'new Sequelize(db, user, null, withIam({...})) is refused at withIam, pointing at addIamHooks',
    make: (e) => {
      const { username: _u, ...options } = base('mysql', e)
      return new Sequelize('app', 'app', null as never, withIam(options))
    },
    mentions: /addIamHooks\(new Sequelize\(database, username, null, options\)/,
  },
  {
    name: 'addIamHooks on an instance without username names `username`',
    make: (e) => {
      const { iam: _iam, username: _u, ...options } = base('postgres', e)
      return addIamHooks(new Sequelize(options as never), iam)
    },
    mentions: /set `username`/,
  },
  {
    // Unlike `port`, iam options are core's, checked alike for every adapter (see the README).
    name: 'iam.signingPort as a string is refused, naming iam.signingPort',
    make: (e) => open(withIam({ ...base('postgres', e), iam: { ...iam, signingPort: '5432' as never } })),
    mentions: /iam\.signingPort/,
  },
  {
    name: 'addIamHooks twice on one instance',
    make: (e) => {
      const { iam: _iam, ...options } = base('postgres', e)
      const sequelize = new Sequelize(options as never)
      addIamHooks(sequelize, iam)
      return addIamHooks(sequelize, iam)
    },
    mentions: /once/,
  },
  {
    name: 'addIamHooks on something that is not a Sequelize instance',
    make: () => addIamHooks({}, iam),
    mentions: /new Sequelize/,
  },
]

runBadConfigCases('sequelize', cases)
