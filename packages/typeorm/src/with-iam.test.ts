import { createRequire } from 'node:module'
import { inspect } from 'node:util'
import pg from 'pg'
import { DataSource } from 'typeorm'
import type { DataSource as DataSource1 } from 'typeorm-1-latest'
import { describe, expect, test, vi } from 'vitest'
import { SUPPORTED_TYPEORM_VERSIONS } from './supported-versions.js'
import { findInstalledTypeorm } from './typeorm-version.js'
import { withIam } from './with-iam.js'

const require = createRequire(import.meta.url)
const host = 'db.abc123.eu-west-1.rds.amazonaws.com'
const secretAccessKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey }

describe('withIam (options only; nothing connects)', () => {
  test('postgres: pg with the IAM Pool, iam in extra, your options kept, your object untouched', () => {
    const input = {
      type: 'postgres' as const,
      host,
      username: 'app',
      database: 'app',
      iam: { credentials },
      extra: { max: 7, application_name: 'orders' },
      entities: [],
    }
    const snapshot = JSON.stringify(input)
    const options = withIam(input)
    expect(JSON.stringify(input)).toBe(snapshot)
    expect(options).not.toHaveProperty('iam')
    expect(options.entities).toBe(input.entities)
    expect(options.extra).toMatchObject({ max: 7, application_name: 'orders', iam: {} })
    const driver = options.driver as typeof pg
    expect(driver.Client).toBe(pg.Client)
    expect(new driver.Pool({ host, user: 'app', iam: true } as never)).toBeInstanceOf(pg.Pool)
    expect(driver.Pool).not.toBe(pg.Pool)
    // pg's `native` getter is what TypeORM switches to when pg-native is installed; it must be gone.
    expect('native' in driver).toBe(false)
    expect('native' in pg).toBe(true)
    expect(options).not.toHaveProperty('connectorPackage')
  })

  test('static credentials never show in util.inspect or JSON of the options', () => {
    const options = withIam({ type: 'mysql', host, username: 'app', iam: { credentials } })
    expect(inspect(options, { depth: 8 })).not.toContain(secretAccessKey)
    expect(JSON.stringify(options.extra)).not.toContain(secretAccessKey)
  })

  test('mysql on the installed TypeORM 0.3: connectorPackage mysql2 and the IAM pool factories', () => {
    expect(findInstalledTypeorm()?.version).toBe('0.3.20')
    const options = withIam({ type: 'mysql', host, username: 'app', iam: true })
    expect(options.connectorPackage).toBe('mysql2')
    const driver = options.driver as Record<string, unknown>
    const mysql2 = require('mysql2') as Record<string, unknown>
    expect(driver.createPool).not.toBe(mysql2.createPool)
    expect(driver.createPoolCluster).not.toBe(mysql2.createPoolCluster)
    expect(driver.createConnection).toBe(mysql2.createConnection)
  })

  test.each([
    ['1.0.0', undefined],
    ['1.1.1', undefined],
    ['0.3.31', 'mysql2'],
  ])('mysql for TypeORM %s: connectorPackage %s', (typeormVersion, expected) => {
    const options = withIam({ type: 'mariadb', host, username: 'app', iam: true }, { typeormVersion })
    expect((options as { connectorPackage?: string }).connectorPackage).toBe(expected)
  })

  test('TypeORM 0.3.31 takes the injected mysql2 without its connectorPackage warning (control: it warns without)', () => {
    const { DataSource: DataSource031 } = require('typeorm-0.3-latest') as { DataSource: typeof DataSource }
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const options = withIam(
        { type: 'mysql', host, username: 'app', iam: true },
        { typeormVersion: '0.3.31' },
      )
      const dataSource = new DataSource031(options)
      const driver = dataSource.driver as unknown as { mysql: unknown; isUsingMysql2(): boolean }
      expect(driver.mysql).toBe(options.driver)
      expect(driver.isUsingMysql2()).toBe(true)
      expect(warn).not.toHaveBeenCalled()
      const { connectorPackage: _dropped, ...without } = options
      new DataSource031(without as typeof options)
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('connectorPackage'))
    } finally {
      warn.mockRestore()
    }
  })

  test('a connectorPackage mysql2 of your own is kept', () => {
    expect(
      withIam({ type: 'mysql', host, username: 'app', connectorPackage: 'mysql2' }).connectorPackage,
    ).toBe('mysql2')
  })

  test('iam may be left out (withIam means IAM)', () => {
    expect(withIam({ type: 'postgres', host, username: 'app' }).extra).toHaveProperty('iam')
  })

  test('the result is what DataSource takes, for TypeORM 0.3 and 1.x types alike', () => {
    const options = withIam({ type: 'postgres', host, username: 'app', database: 'app', iam: true })
    const dataSource = new DataSource(options)
    expect(dataSource.isInitialized).toBe(false)
    // Type-level: the same call checks against TypeORM 1.x's DataSourceOptions.
    const DataSourceLatest = (require('typeorm-1-latest') as { DataSource: typeof DataSource1 }).DataSource
    const latest: DataSource1 = new DataSourceLatest(
      withIam({ type: 'mysql', host, username: 'app', iam: true }, { typeormVersion: '1.1.1' }),
    )
    expect(latest.isInitialized).toBe(false)
  })

  test.each([
    ['a URL with a password', 'postgres://app:hunter2@db.example.com:5432/app'],
    ['an unparseable URL with a password', 'postgres://app:hunter2@[db.example.com:5432/app'],
  ])('%s: refused, and the password appears nowhere in the error', (_name, url) => {
    let error: unknown
    try {
      withIam({ type: 'postgres', url, iam: true })
    } catch (err) {
      error = err
    }
    expect(error).toMatchObject({ code: 'RDS_IAM_INVALID_OPTIONS' })
    expect(inspect(error, { depth: 8 })).not.toContain('hunter2')
  })

  test('SUPPORTED_TYPEORM_VERSIONS covers every copy under test', () => {
    expect(SUPPORTED_TYPEORM_VERSIONS).toBe('>=0.3.20 <0.4 || >=1.0.0 <2')
  })
})
