import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { withIam as pgWithIam } from '@rds-iam/pg'
import { selectedEngines } from '@rds-iam/testkit'
import type { DataSourceOptions } from 'typeorm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { getTokenProvider, withIam } from '../src/index.js'
import { loadTypeorm } from './typeorm-versions.js'

// typeorm#11033: the hand-written IAM recipe (a password function in the options) works with
// host/port and fails with `url`, because pg lets the connection string's (absent) password
// replace the function. The control shows the trap is real on this TypeORM; the last test shows
// withIam's `url` form is not affected.
describe.runIf(selectedEngines(['pglite']).length > 0)('typeorm#11033: url and a password function', () => {
  const typeorm = loadTypeorm('typeorm-1-latest')
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'postgres' })
  })
  afterAll(() => emu?.stop())

  const iam = () => ({ region: emu.region, credentials: emu.credentials[0]! })
  // A token function made by @rds-iam/pg, used the way the recipe in the TypeORM issues does.
  const handWritten = (user: string) =>
    (
      pgWithIam({ host: emu.host, port: emu.port, user, ssl: { ca: emu.ca }, iam: iam() }) as {
        password: () => Promise<string>
      }
    ).password
  const url = (user: string) => `postgres://${user}@${emu.host}:${emu.port}/postgres`

  test('control: plain TypeORM with host/port and a password function logs in', async () => {
    const dataSource = new typeorm.DataSource({
      type: 'postgres',
      host: emu.host,
      port: emu.port,
      username: 'rds_iam_app_recipe_host',
      database: 'postgres',
      ssl: { ca: emu.ca },
      password: handWritten('rds_iam_app_recipe_host'),
      driver: typeorm.pg,
    } as unknown as DataSourceOptions)
    await dataSource.initialize()
    await dataSource.destroy()
  })

  test('control: plain TypeORM with url and the same password function does not log in', async () => {
    const dataSource = new typeorm.DataSource({
      type: 'postgres',
      url: url('rds_iam_app_recipe_url'),
      ssl: { ca: emu.ca },
      password: handWritten('rds_iam_app_recipe_url'),
      driver: typeorm.pg,
      connectTimeoutMS: 5000,
    } as unknown as DataSourceOptions)
    const protocolErrorsBefore = emu.stats().protocolErrors
    const error = await dataSource.initialize().then(
      () => dataSource.destroy().then(() => undefined),
      (err: unknown) => err,
    )
    // The token function was dropped: pg sent an empty password, which PostgreSQL (so RDS) refuses
    // before PAM runs.
    expect(error).toMatchObject({
      code: '28P01',
      message: expect.stringContaining('empty password returned by client'),
    })
    expect(emu.stats().protocolErrors).toBeGreaterThan(protocolErrorsBefore)
  })

  test('withIam with url logs in with a token', async () => {
    const dataSource = new typeorm.DataSource(
      withIam({
        type: 'postgres',
        url: url('rds_iam_app_withiam_url'),
        ssl: { ca: emu.ca },
        iam: iam(),
        driver: typeorm.pg,
      }) as unknown as DataSourceOptions,
    )
    await dataSource.initialize()
    try {
      expect(Number((await dataSource.query('select 1 as one'))[0].one)).toBe(1)
      expect(getTokenProvider(dataSource)!.stats().signed).toBe(1)
    } finally {
      await dataSource.destroy()
    }
  })
})
