import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.mjs')

// `pnpm demo` runs this file; it needs no database server (PGlite behind the emulator).
test('the demo stores rows over IAM on PGlite and shows RDS refusing a plain password', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [main], { timeout: 60_000 })
  expect(stdout).toContain('in front of an embedded PGlite')
  expect(stdout).toContain('4 orders stored; tokens signed: 1')
  expect(stdout).toContain(
    'a plain password is refused like RDS refuses it: 28000 PAM authentication failed for user "demo_app"',
  )
  expect(stdout).toContain('InvalidToken ×1')
})
