import Module from 'node:module'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { selectedEngines } from '@rds-iam/testkit'
import type { DataSource, DataSourceOptions } from 'typeorm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { getTokenProvider, withIam } from '../src/index.js'
import { loadTypeorm } from './typeorm-versions.js'

// TypeORM switches to `pg.native` whenever it can load `pg-native`, even with `driver` injected.
// pg-native is not installed here (it needs libpq headers to build), so `require('pg-native')` is
// answered by a stand-in for the duration of this file: TypeORM then believes it is installed.
type Loader = (request: string, parent: unknown, isMain: boolean) => unknown
const moduleWithLoad = Module as unknown as { _load: Loader }
const originalLoad = moduleWithLoad._load
let nativeRequests = 0

describe.runIf(selectedEngines(['pglite']).length > 0)(
  'pg-native installed: TypeORM stays on the JavaScript pg',
  () => {
    let emu: Emulator
    beforeAll(async () => {
      moduleWithLoad._load = function load(this: unknown, request, parent, isMain) {
        if (request === 'pg-native') {
          nativeRequests += 1
          return function PgNativeStandIn() {}
        }
        return originalLoad.call(this, request, parent, isMain)
      }
      emu = await startEmulator({ engine: 'postgres' })
    })
    afterAll(async () => {
      moduleWithLoad._load = originalLoad
      await emu?.stop()
    })

    test('control: a driver that still has `native` is switched to it by TypeORM', () => {
      const typeorm = loadTypeorm('typeorm-1-latest')
      const native = { Pool: class NativePool {}, Client: class NativeClient {} }
      const dataSource = new typeorm.DataSource({
        type: 'postgres',
        host: 'localhost',
        driver: { ...typeorm.pg, native },
      } as DataSourceOptions)
      expect((dataSource.driver as unknown as { postgres: unknown }).postgres).toBe(native)
    })

    for (const alias of ['typeorm', 'typeorm-1-latest'] as const) {
      const typeorm = loadTypeorm(alias)
      test(`typeorm@${typeorm.version}: the IAM pool is used and logs in with a token`, async () => {
        const before = nativeRequests
        const options = withIam({
          type: 'postgres',
          host: emu.host,
          port: emu.port,
          username: `rds_iam_app_native_${alias.replace(/\W/g, '_')}`,
          database: 'postgres',
          ssl: { ca: emu.ca },
          iam: { region: emu.region, credentials: emu.credentials[0]! },
          driver: typeorm.pg,
        })
        const dataSource: DataSource = new typeorm.DataSource(options as unknown as DataSourceOptions)
        await dataSource.initialize()
        try {
          // TypeORM did look for pg-native (so the trap was armed) and kept our driver anyway.
          expect(nativeRequests).toBeGreaterThan(before)
          const driver = (dataSource.driver as unknown as { postgres: { Pool: unknown } }).postgres
          expect(driver.Pool).toBe((options.driver as { Pool: unknown }).Pool)
          expect(Number((await dataSource.query('select 1 as one'))[0].one)).toBe(1)
          expect(getTokenProvider(dataSource)!.stats().signed).toBe(1)
        } finally {
          await dataSource.destroy()
        }
      })
    }
  },
)
