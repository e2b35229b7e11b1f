import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.mjs')

// Runs offline: PGlite behind the emulator, the built @rds-iam/knex (the root `test` script builds first).
test('the knex example migrates, seeds, writes, reads and transacts over IAM, and survives token expiry', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [main], { timeout: 80_000 })
  expect(stdout).toContain('in front of an embedded PGlite')
  expect(stdout).toContain('TLS verified: true, certificate for localhost')
  expect(stdout).toContain('migrations: batch 1, 2 applied')
  expect(stdout).toContain('transfer refused and rolled back: carol has 20, cannot send 500')
  expect(stdout).toContain('balances: alice=70 bob=80 carol=20')
  expect(stdout).toContain('tokens signed so far: 1 (the token itself is never printed)')
  expect(stdout).toContain('after token expiry and a failover: balances alice=70 bob=70 carol=30')
  expect(stdout).toMatch(
    /new since expiry: [1-9]\d*\); emulator: \d+ logins accepted, [1-9]\d* expired token refused and retried/,
  )
  expect(stdout).toContain('rollback: batch 1, 2 reverted')
  // The token is a SigV4 presigned URL; none of it may reach the output.
  expect(stdout).not.toMatch(/X-Amz-|Action=connect/)
})
