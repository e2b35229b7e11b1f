import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// Issue 8, item 13: `iam: { credentials: fromIni({ profile: 'dev' }) }` and
// `fromTemporaryCredentials(…)` failed with TS2322. credential-types.test-d.ts holds the lines a
// user writes; here they are compiled under each moduleResolution mode users have.

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const file = fileURLToPath(new URL('./credential-types.test-d.ts', import.meta.url))
const packageDir = fileURLToPath(new URL('..', import.meta.url))

const MODES = [
  ['nodenext', ['--module', 'nodenext', '--moduleResolution', 'nodenext']],
  ['node16', ['--module', 'node16', '--moduleResolution', 'node16']],
  ['bundler', ['--module', 'esnext', '--moduleResolution', 'bundler']],
  ['node10', ['--module', 'esnext', '--moduleResolution', 'node10']],
] as const

describe('SDK credential providers type-check as iam.credentials', () => {
  it.each(MODES)(
    'moduleResolution %s',
    (_mode, flags) => {
      let output = ''
      try {
        execFileSync(
          process.execPath,
          [
            tsc,
            '--noEmit',
            '--strict',
            '--skipLibCheck',
            '--target',
            'es2022',
            '--types',
            'node',
            ...flags,
            file,
          ],
          { cwd: packageDir, encoding: 'utf8' },
        )
      } catch (err) {
        output = String((err as { stdout?: string }).stdout ?? err)
      }
      expect(output).toBe('')
    },
    120_000,
  )
})
