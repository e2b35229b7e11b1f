import { runDistSmoke } from '@rds-iam/testkit'
import { expect } from 'vitest'
import { SUPPORTED_TYPEORM_VERSIONS } from '../src/index.js'

runDistSmoke({
  packageDir: new URL('..', import.meta.url),
  specifiers: ['@rds-iam/typeorm'],
  distFiles: ['dist/index.mjs', 'dist/index.cjs'],
  probe: `
    const mod = mods['@rds-iam/typeorm']
    const t = mod.withIam ? mod : mod.default
    const host = 'db.abc123.us-east-1.rds.amazonaws.com'
    const pgOptions = t.withIam({ type: 'postgres', host, username: 'app', database: 'app', iam: true })
    const mysqlOptions = t.withIam({ type: 'mysql', host, username: 'app', database: 'app', iam: true })
    const { DataSource } = require('typeorm')
    const dataSource = new DataSource(pgOptions)
    let typed = null
    try { t.withIam({ type: 'sqlite', database: ':memory:' }) } catch (err) { typed = err instanceof t.RdsIamError ? err.code : String(err) }
    console.log(JSON.stringify({
      exports: Object.keys(mod).sort(),
      isPgPool: new pgOptions.driver.Pool({ host, user: 'app', iam: true }) instanceof require('pg').Pool,
      nativeDropped: !('native' in pgOptions.driver),
      connectorPackage: mysqlOptions.connectorPackage,
      initialized: dataSource.isInitialized,
      typed,
      supported: t.SUPPORTED_TYPEORM_VERSIONS,
    }))
  `,
  check(result) {
    expect(result.exports).toEqual(
      expect.arrayContaining([
        'RdsIamError',
        'SUPPORTED_TYPEORM_VERSIONS',
        'getTokenProvider',
        'getTokenProviders',
        'withIam',
      ]),
    )
    expect(result.isPgPool).toBe(true)
    expect(result.nativeDropped).toBe(true)
    expect(result.connectorPackage).toBe('mysql2')
    expect(result.initialized).toBe(false)
    expect(result.typed).toBe('RDS_IAM_UNSUPPORTED_DRIVER')
    expect(result.supported).toBe(SUPPORTED_TYPEORM_VERSIONS)
  },
  supported: { constant: SUPPORTED_TYPEORM_VERSIONS, peer: 'typeorm' },
})
