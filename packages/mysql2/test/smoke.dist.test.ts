import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'
import { SUPPORTED_MYSQL2_VERSIONS } from '../src/index.js'

// Loads the BUILT package the way Node does for users (no dev-source condition), through both
// `import` and `require`, for both entry points, in a child process.
const root = fileURLToPath(new URL('..', import.meta.url))
// The Node that runs vitest, plus every binary listed in RDS_IAM_TEST_NODES (e.g. Node 22 and 24).
const NODES = [process.execPath, ...(process.env.RDS_IAM_TEST_NODES ?? '').split(',').filter(Boolean)]
const probe = `
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
`

function run(node: string, kind: 'import' | 'require'): Record<string, unknown> {
  for (const file of ['index.mjs', 'index.cjs', 'promise.mjs', 'promise.cjs']) {
    if (!existsSync(`${root}dist/${file}`)) {
      throw new Error(
        'packages/mysql2/dist is missing: run `npx tsdown` in packages/mysql2 (the root `test` script builds first)',
      )
    }
  }
  const script =
    kind === 'import'
      ? `const mod = await import('@rds-iam/mysql2'); const promise = await import('@rds-iam/mysql2/promise'); ${probe}`
      : `const mod = require('@rds-iam/mysql2'); const promise = require('@rds-iam/mysql2/promise'); ${probe}`
  const args = kind === 'import' ? ['--input-type=module', '-e', script] : ['-e', script]
  return JSON.parse(execFileSync(node, args, { cwd: root, encoding: 'utf8' }))
}

const matrix = NODES.flatMap((node) => (['import', 'require'] as const).map((kind) => [kind, node] as const))

test.each(matrix)('the built package loads through %s on %s', (kind, node) => {
  const result = run(node, kind)
  expect(result.exports).toEqual(
    expect.arrayContaining([
      'createConnection',
      'createPool',
      'createPoolCluster',
      'connectWithRetry',
      'withIam',
    ]),
  )
  expect(result.promiseExports).toEqual(expect.arrayContaining(['createConnection', 'createPool', 'withIam']))
  expect(result.hasPlugin).toBe(true)
  expect(result.promisePoolHasQuery).toBe(true)
  expect(result.supported).toBe(SUPPORTED_MYSQL2_VERSIONS)
})

test('supported versions are stated equally in code, package.json and README', () => {
  const manifest = JSON.parse(readFileSync(`${root}package.json`, 'utf8'))
  expect(manifest.peerDependencies.mysql2).toBe(SUPPORTED_MYSQL2_VERSIONS)
  expect(readFileSync(`${root}README.md`, 'utf8')).toContain(`\`${SUPPORTED_MYSQL2_VERSIONS}\``)
})
