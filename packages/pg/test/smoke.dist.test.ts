import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'
import { SUPPORTED_PG_VERSIONS } from '../src/index.js'

// Loads the BUILT package the way Node does for users (no dev-source condition), through both
// `import` and `require`, in a child process.
const root = fileURLToPath(new URL('..', import.meta.url))
// The Node that runs vitest, plus every binary listed in RDS_IAM_TEST_NODES (e.g. Node 22 and 24).
const NODES = [process.execPath, ...(process.env.RDS_IAM_TEST_NODES ?? '').split(',').filter(Boolean)]
const probe = `
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
`

function run(node: string, kind: 'import' | 'require'): Record<string, unknown> {
  if (!existsSync(`${root}dist/index.mjs`) || !existsSync(`${root}dist/index.cjs`)) {
    throw new Error(
      'packages/pg/dist is missing: run `npx tsdown` in packages/pg (the root `test` script builds first)',
    )
  }
  const script =
    kind === 'import'
      ? `import { createRequire } from 'node:module'; const require = createRequire(process.cwd() + '/'); const mod = await import('@rds-iam/pg'); ${probe}`
      : `const mod = require('@rds-iam/pg'); ${probe}`
  const args = kind === 'import' ? ['--input-type=module', '-e', script] : ['-e', script]
  return JSON.parse(execFileSync(node, args, { cwd: root, encoding: 'utf8' }))
}

const matrix = NODES.flatMap((node) => (['import', 'require'] as const).map((kind) => [kind, node] as const))

test.each(matrix)('the built package loads through %s on %s', (kind, node) => {
  const result = run(node, kind)
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
})

test('supported versions are stated equally in code, package.json and README', () => {
  const manifest = JSON.parse(readFileSync(`${root}package.json`, 'utf8'))
  expect(manifest.peerDependencies.pg).toBe(SUPPORTED_PG_VERSIONS)
  expect(readFileSync(`${root}README.md`, 'utf8')).toContain(`\`${SUPPORTED_PG_VERSIONS}\``)
})
