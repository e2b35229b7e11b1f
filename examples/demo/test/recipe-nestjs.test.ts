import 'reflect-metadata'
import { Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { getConnectionToken, SequelizeModule } from '@nestjs/sequelize'
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm'
import { startEmulator } from '@rds-iam/emulator'
import { getTokenProvider as sequelizeProvider, withIam as sequelizeWithIam } from '@rds-iam/sequelize'
import { getTokenProvider as typeormProvider, withIam as typeormWithIam } from '@rds-iam/typeorm'
import type { Sequelize } from 'sequelize'
import type { DataSource } from 'typeorm'
import { afterAll, beforeAll, expect, test } from 'vitest'

// docs/recipes.md's NestJS recipes as written, without decorator syntax (`Module({...})(Class)` is
// what `@Module({...})` compiles to): Nest builds the DataSource / Sequelize instance itself. The
// root tsconfig includes this file, so `tsc -p tsconfig.json` checks that the recipes' options
// (Nest's own keys such as `autoLoadModels`, sequelize-typescript's `models`) type-check too.
let emu: Awaited<ReturnType<typeof startEmulator>>
beforeAll(async () => {
  emu = await startEmulator({ engine: 'postgres' })
}, 120_000)
afterAll(async () => {
  await emu?.stop()
})

const iam = () => ({ region: emu.region, credentials: emu.credentials[0] })

test('NestJS TypeOrmModule.forRootAsync with withIam(…) from @rds-iam/typeorm: the DataSource Nest builds logs in over IAM', async () => {
  class AppModule {}
  Module({
    imports: [
      TypeOrmModule.forRootAsync({
        useFactory: () =>
          typeormWithIam({
            type: 'postgres',
            host: 'localhost',
            port: emu.port,
            username: 'nest_typeorm_app',
            database: 'postgres',
            ssl: { ca: emu.ca },
            iam: iam(),
            autoLoadEntities: true,
            retryAttempts: 1,
          }),
      }),
    ],
  })(AppModule)
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false })
  try {
    const dataSource = app.get<DataSource>(getDataSourceToken())
    expect(await dataSource.query('select 41 + 1 as answer')).toEqual([{ answer: 42 }])
    expect(typeormProvider(dataSource)?.stats().signed).toBe(1)
    expect(emu.stats().accepted).toBeGreaterThanOrEqual(1)
  } finally {
    await app.close()
  }
}, 60_000)

test('NestJS SequelizeModule.forRoot with withIam(…) from @rds-iam/sequelize: the sequelize-typescript instance logs in over IAM', async () => {
  const before = emu.stats().accepted
  class AppModule {}
  Module({
    imports: [
      SequelizeModule.forRoot(
        sequelizeWithIam({
          dialect: 'postgres',
          host: 'localhost',
          port: emu.port,
          username: 'nest_sequelize_app',
          database: 'postgres',
          dialectOptions: { ssl: { ca: emu.ca } },
          logging: false,
          iam: iam(),
          autoLoadModels: true,
          models: [],
          retryAttempts: 1,
        }),
      ),
    ],
  })(AppModule)
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false })
  try {
    const sequelize = app.get<Sequelize>(getConnectionToken())
    const [rows] = await sequelize.query('select 41 + 1 as answer')
    expect(rows).toEqual([{ answer: 42 }])
    expect(sequelizeProvider(sequelize)?.stats().signed).toBe(1)
    expect(emu.stats().accepted - before).toBeGreaterThanOrEqual(1)
  } finally {
    await app.close()
  }
}, 60_000)
