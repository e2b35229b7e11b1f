import { runDistSmoke } from '@rds-iam/testkit'
import { expect } from 'vitest'
import { SUPPORTED_MYSQL2_VERSIONS } from '../src/index.js'

runDistSmoke({
  packageDir: new URL('..', import.meta.url),
  specifiers: ['@rds-iam/mysql2', '@rds-iam/mysql2/promise'],
  distFiles: ['dist/index.mjs', 'dist/index.cjs', 'dist/promise.mjs', 'dist/promise.cjs'],
  probe: `
    const mod = mods['@rds-iam/mysql2']
    const promise = mods['@rds-iam/mysql2/promise']
    const m = mod.createPool ? mod : mod.default
    const p = promise.createPool ? promise : promise.default
    const cfg = { host: 'db.abc123.us-east-1.rds.amazonaws.com', user: 'app', iam: true }
    const pool = m.createPool(cfg)
    const promisePool = p.createPool(cfg)
    console.log(JSON.stringify({
      exports: Object.keys(mod).sort(),
      promiseExports: Object.keys(promise).sort(),
      hasPlugin: typeof m.withIam(cfg).authPlugins.mysql_clear_password === 'function',
      promisePoolHasQuery: typeof promisePool.query === 'function',
      supported: m.SUPPORTED_MYSQL2_VERSIONS,
    }))
    pool.end(() => {})
    promisePool.end()
  `,
  check(result) {
    expect(result.exports).toEqual(
      expect.arrayContaining([
        'createConnection',
        'createPool',
        'createPoolCluster',
        'connectWithRetry',
        'withIam',
      ]),
    )
    expect(result.promiseExports).toEqual(
      expect.arrayContaining(['createConnection', 'createPool', 'withIam']),
    )
    expect(result.hasPlugin).toBe(true)
    expect(result.promisePoolHasQuery).toBe(true)
    expect(result.supported).toBe(SUPPORTED_MYSQL2_VERSIONS)
  },
  supported: { constant: SUPPORTED_MYSQL2_VERSIONS, peer: 'mysql2' },
})
