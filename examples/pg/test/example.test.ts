import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.mjs')

// Standalone run of the app `pnpm demo` also runs; it needs no database server (PGlite behind the emulator).
test('the pg example stores rows over IAM on PGlite, shows RDS refusing a plain password, and gets a new token after expiry', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [main], {
    timeout: 120_000,
    env: { ...process.env, RDS_IAM_DEMO_PG_URL: '' },
  })
  expect(stdout).toContain('in front of an embedded PGlite')
  expect(stdout).toContain('4 orders stored; tokens signed: 1')
  expect(stdout).toContain(
    'a plain password is refused like RDS refuses it: 28000 PAM authentication failed for user "demo_app"',
  )
  expect(stdout).toContain('TLS verified: true, certificate for localhost')
  expect(stdout).toContain(
    'after token expiry: 4 orders read on a new connection; tokens signed: 2 (the aged token was refused 1× and retried)',
  )
  expect(stdout).toMatch(/InvalidToken ×1, ExpiredToken ×1/)
  expect(stdout).not.toMatch(/X-Amz-|Action=connect/)
}, 150_000)
