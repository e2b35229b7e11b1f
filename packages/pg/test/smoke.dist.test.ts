import { runDistSmoke } from '@rds-iam/testkit'
import { expect } from 'vitest'
import { SUPPORTED_PG_VERSIONS } from '../src/index.js'

runDistSmoke({
  packageDir: new URL('..', import.meta.url),
  specifiers: ['@rds-iam/pg'],
  distFiles: ['dist/index.mjs', 'dist/index.cjs'],
  probe: `
    const mod = mods['@rds-iam/pg']
    const pg = mod.createPool ? mod : mod.default
    const pool = pg.createPool({ host: 'db.abc123.us-east-1.rds.amazonaws.com', user: 'app', iam: true })
    const base = require('pg')
    console.log(JSON.stringify({
      exports: Object.keys(mod).sort(),
      isPgPool: pool instanceof base.Pool && pool instanceof pg.Pool,
      passwordIsFunction: typeof pool.options.password === 'function',
      supported: pg.SUPPORTED_PG_VERSIONS,
    }))
    pool.end()
  `,
  check(result) {
    expect(result.exports).toEqual(
      expect.arrayContaining([
        'Client',
        'Pool',
        'RdsIamError',
        'SUPPORTED_PG_VERSIONS',
        'createPool',
        'getTokenProvider',
        'withIam',
      ]),
    )
    expect(result.isPgPool).toBe(true)
    expect(result.passwordIsFunction).toBe(true)
    expect(result.supported).toBe(SUPPORTED_PG_VERSIONS)
  },
  supported: { constant: SUPPORTED_PG_VERSIONS, peer: 'pg' },
})
