import { runDistSmoke } from '@rds-iam/testkit'
import { expect } from 'vitest'
import { SUPPORTED_KNEX_VERSIONS } from '../src/index.js'

runDistSmoke({
  packageDir: new URL('..', import.meta.url),
  specifiers: ['@rds-iam/knex'],
  distFiles: ['dist/index.mjs', 'dist/index.cjs'],
  // Builds a real knex instance from the built package; no connection is opened (pool min 0, no query).
  probe: `
    const mod = mods['@rds-iam/knex']
    const api = mod.withIam ? mod : mod.default
    const knex = require('knex')
    const db = knex(api.withIam({
      client: 'pg',
      connection: { host: 'db.abc123.us-east-1.rds.amazonaws.com', user: 'app', database: 'app', iam: true },
      pool: { min: 0 },
    }))
    const my = knex(api.withIam({ client: 'mysql2', connection: 'mysql://app@db.abc123.us-east-1.rds.amazonaws.com/app' }))
    let refused
    try { api.withIam({ client: 'sqlite3', connection: { filename: ':memory:' } }) } catch (err) { refused = err.code }
    console.log(JSON.stringify({
      exports: Object.keys(mod).sort(),
      dialect: db.client.dialect,
      driverName: db.client.driverName,
      mysqlDriver: my.client.driverName,
      passwordIsFunction: typeof db.client.connectionSettings.password === 'function',
      hasProvider: typeof api.getTokenProvider(db).stats === 'function',
      refused,
      supported: api.SUPPORTED_KNEX_VERSIONS,
    }))
    Promise.all([db.destroy(), my.destroy()])
  `,
  check(result) {
    expect(result.exports).toEqual(
      expect.arrayContaining([
        'RdsIamError',
        'SUPPORTED_KNEX_VERSIONS',
        'getTokenProvider',
        'isRdsIamError',
        'withIam',
      ]),
    )
    expect(result.dialect).toBe('postgresql')
    expect(result.driverName).toBe('pg')
    expect(result.mysqlDriver).toBe('mysql2')
    expect(result.passwordIsFunction).toBe(true)
    expect(result.hasProvider).toBe(true)
    expect(result.refused).toBe('RDS_IAM_UNSUPPORTED_DRIVER')
    expect(result.supported).toBe(SUPPORTED_KNEX_VERSIONS)
  },
  supported: { constant: SUPPORTED_KNEX_VERSIONS, peer: 'knex' },
})
