import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = promisify(execFile)

// What `npm start` does: generate the client (nothing generated is committed), then run the app.
// It needs no database server (PGlite behind the emulator).
test('the Prisma example writes, reads and commits over IAM, then survives token expiry and a failover', async () => {
  await run(process.execPath, [join(root, 'scripts', 'generate.mjs')], { cwd: root, timeout: 60_000 })
  const { stdout } = await run(process.execPath, [join(root, 'src', 'main.mjs')], {
    cwd: root,
    timeout: 60_000,
  })
  expect(stdout).toContain('in front of an embedded PGlite')
  expect(stdout).toContain('transaction: published 2 of 2 posts')
  expect(stdout).toContain('read: Ada wrote "Notes on the Analytical Engine", "Sketch of the Engine"')
  expect(stdout).toContain('tokens signed so far: 1 ')
  expect(stdout).toContain('ssl: false is refused: RDS_IAM_INSECURE_TRANSPORT')
  expect(stdout).toMatch(
    /after expiry \+ failover: 2 posts read on a new connection; tokens signed: 2; emulator refused [1-9]\d* expired token\(s\)/,
  )
  expect(stdout).not.toMatch(/X-Amz-Signature|X-Amz-Credential/)
})
