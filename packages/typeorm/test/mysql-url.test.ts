import { randomBytes } from 'node:crypto'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { selectedEngines, TEST_URLS } from '@rds-iam/testkit'
import type { DataSource, DataSourceOptions } from 'typeorm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { getTokenProvider, withIam } from '../src/index.js'
import { loadTypeorm, TYPEORM_ALIASES } from './typeorm-versions.js'

// TypeORM's MysqlDriver parses `url` itself and spreads the result over the options, including the
// URL's user, which is '' when the URL has none: `username` beside such a `url` is lost. withIam
// refuses that combination rather than carrying `username` across, because TypeORM without
// withIam loses it the same way (the control below), and a user who meets the refusal fixes the
// options the way plain TypeORM needs too.
describe.runIf(selectedEngines(['mysql']).length > 0)('mysql: a url without a user', () => {
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'mysql', upstream: TEST_URLS.mysql })
  })
  afterAll(() => emu?.stop())

  for (const alias of TYPEORM_ALIASES) {
    const typeorm = loadTypeorm(alias)
    // TypeORM 0.3 would load the old `mysql` package; 1.x has no such option.
    const connector = typeorm.major === 0 ? { connectorPackage: 'mysql2' } : {}

    test(`typeorm@${typeorm.version}: without withIam the url's empty user replaces username`, async () => {
      // Control: plain TypeORM with a password login to the MariaDB the emulator fronts, the user
      // given only as `username`. The server sees the user '' (access denied for ''@…, or, where
      // anonymous accounts exist, a session whose USER() is '@…'), never `username`.
      const upstream = new URL(TEST_URLS.mysql)
      const plain: DataSource = new typeorm.DataSource({
        type: 'mysql',
        url: `mysql://${upstream.host}${upstream.pathname}`,
        username: decodeURIComponent(upstream.username),
        password: decodeURIComponent(upstream.password),
        driver: typeorm.mysql2,
        ...connector,
      } as unknown as DataSourceOptions)
      const seenAs = await plain.initialize().then(
        async () => {
          try {
            return String((await plain.query('SELECT USER() AS u'))[0].u)
          } finally {
            await plain.destroy()
          }
        },
        (err: unknown) => String((err as Error).message),
      )
      expect(seenAs).toMatch(/^@|user ''@/)
    })

    test(`typeorm@${typeorm.version}: withIam refuses a url without a user, and the user in the url logs in`, async () => {
      const username = `rds_iam_app_url_${randomBytes(4).toString('hex')}`
      const iam = { region: emu.region, credentials: emu.credentials[0]! }
      const common = { type: 'mysql' as const, ssl: { ca: emu.ca }, driver: typeorm.mysql2, iam }
      const injection = { typeormVersion: typeorm.version }
      // Before the fix these options passed withIam and initialize() failed with core's "no user"
      // (naming mysql2's `user`, an option the TypeORM user never wrote).
      expect(() =>
        withIam({ ...common, url: `mysql://${emu.host}:${emu.port}/test`, username }, injection),
      ).toThrow(
        expect.objectContaining({
          code: 'RDS_IAM_INVALID_OPTIONS',
          message: expect.stringMatching(/`url` has no user.*`username` is ignored/),
          hint: expect.stringMatching(/put the IAM database user in `url`/),
        }),
      )
      // What the hint says to write logs in with a token on this TypeORM.
      const dataSource: DataSource = new typeorm.DataSource(
        withIam(
          { ...common, url: `mysql://${username}@${emu.host}:${emu.port}/test` },
          injection,
        ) as unknown as DataSourceOptions,
      )
      await dataSource.initialize()
      try {
        expect(Number((await dataSource.query('select 1 as one'))[0].one)).toBe(1)
        expect(getTokenProvider(dataSource)!.stats().signed).toBe(1)
      } finally {
        await dataSource.destroy()
      }
    })
  }
})
