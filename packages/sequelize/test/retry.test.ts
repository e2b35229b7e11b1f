import { type ConnectionSettings, runRetryCases } from '@rds-iam/testkit'
import { DataTypes } from 'sequelize'
import { expect } from 'vitest'
import { withIam } from '../src/index.js'
import { type HarnessDialect, optionsFor, SEQUELIZE_VERSIONS } from './sequelize-harness.js'

// Every way a Sequelize app first touches the database goes through the connection manager's
// connect, which runs inside withAuthRetry. The version probe is left on (databaseVersion 0), so
// the probe's own login is what is retried.
const entryPoints = (dialect: HarnessDialect) => {
  const withSequelize = async <T>(
    s: ConnectionSettings,
    fn: (q: InstanceType<typeof SEQUELIZE_VERSIONS.latest>) => Promise<T>,
  ) => {
    const sequelize = new SEQUELIZE_VERSIONS.lowest(withIam(optionsFor(s, dialect, 2)))
    try {
      return await fn(sequelize)
    } finally {
      await sequelize.close()
    }
  }
  return [
    {
      name: `${dialect}: sequelize.query`,
      run: (s: ConnectionSettings) =>
        withSequelize(s, (q) => q.query('select 1 as one', { type: 'SELECT' as never })) as never,
    },
    {
      name: `${dialect}: sequelize.authenticate`,
      run: (s: ConnectionSettings) =>
        withSequelize(s, async (q) => {
          await q.authenticate()
          return q.query('select 1 as one', { type: 'SELECT' as never }) as never
        }),
    },
    {
      name: `${dialect}: a managed transaction`,
      run: (s: ConnectionSettings) =>
        withSequelize(s, (q) =>
          q.transaction((t) => q.query('select 1 as one', { type: 'SELECT' as never, transaction: t })),
        ) as never,
    },
    {
      name: `${dialect}: Model.sync, create, findAll`,
      run: (s: ConnectionSettings) =>
        withSequelize(s, async (q) => {
          const One = q.define(
            'One',
            { one: DataTypes.INTEGER },
            { tableName: `retry_${s.user}`, timestamps: false },
          )
          await One.sync()
          try {
            await One.create({ one: 1 })
            return (await One.findAll({ attributes: ['one'], raw: true })) as never
          } finally {
            await One.drop()
          }
        }),
    },
  ]
}

const connectToHangup = (dialect: HarnessDialect) => async (e: { host: string; port: number }) => {
  const sequelize = new SEQUELIZE_VERSIONS.lowest(
    withIam({
      dialect,
      host: e.host,
      port: e.port,
      username: 'app',
      database: 'app',
      logging: false,
      dialectOptions: { ssl: false },
      iam: {
        insecure: true,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' },
      },
    }),
  )
  try {
    return await sequelize.authenticate().then(
      () => undefined,
      (err: unknown) => err,
    )
  } finally {
    await sequelize.close()
  }
}

runRetryCases({
  adapter: 'sequelize (postgres)',
  engine: 'postgres',
  entryPoints: entryPoints('postgres'),
  expectAuthCause(cause) {
    expect((cause as Error).name).toBe('SequelizeConnectionError')
    expect((cause as { parent?: { code?: string } }).parent?.code).toBe('28000')
  },
  connectToHangup: connectToHangup('postgres'),
})

for (const dialect of ['mysql'] as const) {
  runRetryCases({
    adapter: `sequelize (${dialect})`,
    engine: 'mysql',
    entryPoints: entryPoints(dialect),
    expectAuthCause(cause) {
      expect((cause as Error).name).toBe('SequelizeAccessDeniedError')
      expect((cause as { parent?: { errno?: number } }).parent?.errno).toBe(1045)
    },
    connectToHangup: connectToHangup(dialect),
  })
}
