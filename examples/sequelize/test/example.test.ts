import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.mjs')

// The example needs no database server (PGlite behind the emulator); it runs the built @rds-iam/sequelize.
test('the Sequelize example migrates, writes, reads and survives token expiry over IAM on PGlite', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [main], { timeout: 80_000 })
  expect(stdout).toContain('in front of an embedded PGlite')
  expect(stdout).toContain('TLS: on, certificate verified: true')
  expect(stdout).toContain('migrations applied: 20261201-create-products, 20261201-create-orders')
  expect(stdout).toContain('orders: 1; stock {"tea":9,"coffee":5,"cocoa":2}; rolled back: only 2 cocoa left')
  expect(stdout).toMatch(/tokens signed: 1; emulator accepted \d+ IAM login\(s\)/)
  expect(stdout).toContain(
    'after expiry + failover: 1 order(s) read; the old token was refused (ExpiredToken ×1), a new one signed (tokens signed: 2)',
  )
  expect(stdout).not.toMatch(/X-Amz-Signature|X-Amz-Credential/)
})
