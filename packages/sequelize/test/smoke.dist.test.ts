import { runDistSmoke } from '@rds-iam/testkit'
import { expect } from 'vitest'
import { SUPPORTED_SEQUELIZE_VERSIONS } from '../src/index.js'

runDistSmoke({
  packageDir: new URL('..', import.meta.url),
  specifiers: ['@rds-iam/sequelize'],
  distFiles: ['dist/index.mjs', 'dist/index.cjs'],
  probe: `
    const mod = mods['@rds-iam/sequelize']
    const api = mod.withIam ? mod : mod.default
    const { Sequelize } = require('sequelize')
    const options = api.withIam({ dialect: 'postgres', host: 'db.abc123.us-east-1.rds.amazonaws.com', username: 'app', database: 'app', logging: false, iam: true })
    const sequelize = new Sequelize(options)
    let refused
    try { api.withIam({ dialect: 'sqlite', iam: true }) } catch (err) { refused = err instanceof api.RdsIamError && err.code }
    console.log(JSON.stringify({
      exports: Object.keys(mod).sort(),
      hasHook: sequelize.hasHook('beforeConnect'),
      provider: typeof api.getTokenProvider(sequelize)?.stats,
      refused,
      supported: api.SUPPORTED_SEQUELIZE_VERSIONS,
    }))
    sequelize.close()
  `,
  check(result) {
    expect(result.exports).toEqual(
      expect.arrayContaining([
        'RdsIamError',
        'SUPPORTED_DIALECTS',
        'SUPPORTED_SEQUELIZE_VERSIONS',
        'addIamHooks',
        'getTokenProvider',
        'withIam',
      ]),
    )
    expect(result.hasHook).toBe(true)
    expect(result.provider).toBe('function')
    expect(result.refused).toBe('RDS_IAM_UNSUPPORTED_DRIVER')
    expect(result.supported).toBe(SUPPORTED_SEQUELIZE_VERSIONS)
  },
  supported: { constant: SUPPORTED_SEQUELIZE_VERSIONS, peer: 'sequelize' },
})
