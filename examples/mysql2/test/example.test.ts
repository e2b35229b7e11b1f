import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { requireService } from '@rds-iam/test-services'
import { expect, test } from 'vitest'

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.mjs')

test('the mysql2 example stores rows over IAM and shows RDS refusing a plain password', async (ctx) => {
  await requireService('mysql', { skip: (note) => ctx.skip(note) })
  const { stdout } = await promisify(execFile)(process.execPath, [main], { timeout: 60_000 })
  expect(stdout).toContain('4 orders stored; tokens signed: 1')
  expect(stdout).toMatch(
    /a plain password is refused like RDS refuses it: 1045 \(28000\) Access denied for user 'demo_app'@'[^']+' \(using password: YES\)/,
  )
})
