import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.mjs')

// The example needs no database server (PGlite behind the emulator); it runs the built packages.
test('the TypeORM example migrates, writes, reads and survives token expiry over IAM on PGlite', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [main], {
    timeout: 60_000,
    env: { ...process.env, RDS_IAM_DEMO_PG_URL: '' },
  })
  expect(stdout).toContain('in front of an embedded PGlite')
  expect(stdout).toContain('certificate verified: true')
  expect(stdout).toContain('migrations applied: CreateOrders1700000000000')
  expect(stdout).toContain(
    'orders: tea (shipped), coffee (new), cocoa (new), mate (shipped); a failed transaction rolled back (payment declined)',
  )
  expect(stdout).toContain('tokens signed so far: 1')
  expect(stdout).toMatch(
    /after token expiry: 2 shipped orders read on a new connection; tokens signed: 2; emulator refused the aged token 1 time\(s\)/,
  )
  expect(stdout).not.toMatch(/X-Amz-Signature|X-Amz-Credential/)
})
