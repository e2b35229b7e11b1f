import { createRequire } from 'node:module'
import { afterEach, describe, expect, test } from 'vitest'
import { createPool, getTokenProvider, withIam } from '../src/index.js'
import { createPool as createPromisePool } from '../src/promise.js'

// Issue 8 item 16: getTokenProvider() answers for a promise pool of this package and for pools
// your own mysql2 builds from a withIam config (found through the auth plugin they carry); it was
// `undefined` for both. Pools connect lazily: nothing here touches the network.
const require = createRequire(import.meta.url)
const VERSIONS: [string, typeof import('mysql2'), typeof import('mysql2/promise')][] = [
  ['mysql2 3.9.0', require('mysql2'), require('mysql2/promise')],
  ['mysql2 latest', require('mysql2-latest'), require('mysql2-latest/promise')],
]
const iam = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }
const host = 'lookup.abcdefghijkl.us-east-1.rds.amazonaws.com'

describe.each(VERSIONS)('%s: getTokenProvider', (_label, mysql2, mysql2Promise) => {
  const opened: { end(): unknown }[] = []
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((pool) => pool.end()))
  })
  const keep = <P extends { end(): unknown }>(pool: P): P => {
    opened.push(pool)
    return pool
  }

  test("this package's promise pool", () => {
    const pool = keep(createPromisePool({ host, user: 'lookup_promise', iam }, { mysql2 }))
    const provider = getTokenProvider(pool)
    expect(provider).toBeDefined()
    expect(provider).toBe(getTokenProvider(pool.pool))
    expect(provider?.target?.username).toBe('lookup_promise')
  })

  test('your own callback and promise pools built from a withIam config', () => {
    const config = withIam({ host, user: 'lookup_own', iam })
    const expected = getTokenProvider(config)
    expect(expected).toBeDefined()
    expect(getTokenProvider(keep(mysql2.createPool(config)))).toBe(expected)
    expect(getTokenProvider(keep(mysql2Promise.createPool(config)))).toBe(expected)
    expect(getTokenProvider(keep(createPool({ host, user: 'lookup_other', iam }, { mysql2 })))).not.toBe(
      expected,
    )
  })

  test('an unrelated pool has none', () => {
    expect(getTokenProvider(keep(mysql2.createPool({ host, user: 'plain', password: 'x' })))).toBeUndefined()
  })
})
