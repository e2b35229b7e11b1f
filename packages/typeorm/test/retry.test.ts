import { randomBytes } from 'node:crypto'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { type ConnectionSettings, runRetryCases, TEST_URLS } from '@rds-iam/testkit'
import type { DataSource, DataSourceOptions } from 'typeorm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { getTokenProvider, RdsIamError, withIam } from '../src/index.js'
import { loadTypeorm, type TypeormUnderTest } from './typeorm-versions.js'

type Engine = 'postgres' | 'mysql'

function optionsOf(
  typeorm: TypeormUnderTest,
  engine: Engine,
  s: Pick<ConnectionSettings, 'host' | 'port' | 'user' | 'database' | 'ssl' | 'iam'>,
): DataSourceOptions {
  const common = {
    host: s.host,
    port: s.port,
    username: s.user,
    database: s.database,
    ssl: s.ssl,
    iam: s.iam,
    poolSize: 2,
  }
  const options =
    engine === 'mysql'
      ? withIam(
          { type: 'mysql', ...common, driver: typeorm.mysql2, connectTimeout: 5000 },
          { typeormVersion: typeorm.version },
        )
      : withIam({ type: 'postgres', ...common, driver: typeorm.pg, connectTimeoutMS: 5000 })
  return options as unknown as DataSourceOptions
}

for (const alias of ['typeorm', 'typeorm-1-latest'] as const) {
  const typeorm = loadTypeorm(alias)
  for (const engine of ['postgres', 'mysql'] as const) {
    const label = `typeorm@${typeorm.version}`
    // initialize() opens the pool's first connection: that login is the one retried.
    runRetryCases({
      adapter: label,
      engine,
      entryPoints: [
        {
          name: 'DataSource.initialize',
          async run(s) {
            const dataSource = new typeorm.DataSource(optionsOf(typeorm, engine, s))
            await dataSource.initialize()
            try {
              return await dataSource.query('select 1 as one')
            } finally {
              await dataSource.destroy()
            }
          },
        },
      ],
      // TypeORM hands the driver's own error through: pg's DatabaseError / mysql2's error.
      expectAuthCause(cause) {
        if (engine === 'mysql') expect(cause).toMatchObject({ errno: 1045, code: 'ER_ACCESS_DENIED_ERROR' })
        else expect(cause).toMatchObject({ code: '28000' })
      },
      async connectToHangup(endpoint) {
        const dataSource = new typeorm.DataSource(
          optionsOf(typeorm, engine, {
            ...endpoint,
            user: 'app',
            database: 'test',
            ssl: false,
            iam: {
              region: 'us-east-1',
              insecure: true,
              credentials: { accessKeyId: 'AKIAHANGUP', secretAccessKey: 'x' },
            },
          }),
        )
        return dataSource.initialize().then(
          () => dataSource.destroy().then(() => undefined),
          (err: unknown) => err,
        )
      },
    })

    describe(`${label} on ${engine}: initialize() again after a permanent failure`, () => {
      let emu: Emulator
      beforeAll(async () => {
        emu = await startEmulator({ engine, upstream: TEST_URLS[engine] })
      })
      afterAll(() => emu?.stop())

      test('the same DataSource initializes once the database accepts the token', async () => {
        const dataSource: DataSource = new typeorm.DataSource(
          optionsOf(typeorm, engine, {
            host: emu.host,
            port: emu.port,
            user: `rds_iam_app_reinit_${randomBytes(4).toString('hex')}`,
            database: engine === 'mysql' ? 'test' : new URL(TEST_URLS.postgres).pathname.slice(1) || 'test',
            ssl: { ca: emu.ca },
            iam: {
              region: emu.region,
              credentials: emu.credentials[0]!,
              retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
            },
          }),
        )
        emu.faults.rejectNext(1_000)
        const error = await dataSource.initialize().then(
          () => undefined,
          (err: unknown) => err,
        )
        expect(error).toBeInstanceOf(RdsIamError)
        expect((error as RdsIamError).code).toBe('RDS_IAM_AUTH_FAILED')
        expect(dataSource.isInitialized).toBe(false)
        emu.faults.reset()
        await dataSource.initialize()
        try {
          expect(dataSource.isInitialized).toBe(true)
          expect(Number((await dataSource.query('select 1 as one'))[0].one)).toBe(1)
          expect(getTokenProvider(dataSource)!.stats().signed).toBeGreaterThanOrEqual(3)
        } finally {
          await dataSource.destroy()
        }
      })
    })
  }
}
