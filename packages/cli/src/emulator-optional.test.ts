import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EMULATOR_MISSING, emulatorCommand } from './cli-main.js'
import { bufferIo } from './test-support.js'

// `@rds-iam/emulator` (and with it PGlite, most of the install) is an optional peer: `rds-iam
// token` users do not get it. In this workspace it is always installed, so the "not installed"
// errors are produced for real by Node, resolving the package from an empty directory.
let empty: string
beforeAll(async () => {
  empty = await mkdtemp(join(tmpdir(), 'rds-iam-cli-no-emulator-'))
})
afterAll(async () => {
  await rm(empty, { recursive: true, force: true })
})

/** The error Node itself raises for `@rds-iam/emulator` from a directory without it. */
async function notFound(kind: 'esm' | 'cjs'): Promise<Error> {
  const report = '(e) => console.log(JSON.stringify({ code: e.code, message: e.message }))'
  const script =
    kind === 'esm'
      ? `import('@rds-iam/emulator').catch(${report})`
      : `try { require('@rds-iam/emulator') } catch (e) { (${report})(e) }`
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...(kind === 'esm' ? ['--input-type=module'] : []), '-e', script],
    // NODE_PATH (set by some runners) would find the workspace's copy.
    { cwd: empty, env: { ...process.env, NODE_PATH: '' } },
  )
  if (stdout === '') throw new Error(`@rds-iam/emulator resolved from ${empty}`)
  return Object.assign(new Error(), JSON.parse(stdout) as { code: string; message: string })
}

describe('@rds-iam/emulator is an optional peer', () => {
  it('package.json: not a dependency, an optional peer', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'))
    expect(pkg.dependencies).not.toHaveProperty('@rds-iam/emulator')
    expect(pkg.peerDependencies).toHaveProperty('@rds-iam/emulator')
    expect(pkg.peerDependenciesMeta['@rds-iam/emulator']).toEqual({ optional: true })
  })

  for (const kind of ['esm', 'cjs'] as const) {
    it(`says how to install it when it is missing (${kind} resolution)`, async () => {
      const err = await notFound(kind)
      expect((err as { code?: string }).code).toMatch(/MODULE_NOT_FOUND/)
      const b = bufferIo()
      expect(await emulatorCommand(['--engine', 'postgres'], b.io, () => Promise.reject(err))).toBe(1)
      expect(b.stderr()).toBe(EMULATOR_MISSING)
      expect(b.stderr()).toContain('npm install --save-dev @rds-iam/emulator')
      expect(b.stdout()).toBe('')
    })
  }

  it('reports another load failure with its own message', async () => {
    const b = bufferIo()
    const broken = () => Promise.reject(new Error("Cannot find package 'pg-protocol' imported from …"))
    expect(await emulatorCommand([], b.io, broken)).toBe(1)
    expect(b.stderr()).toContain("cannot load @rds-iam/emulator (Cannot find package 'pg-protocol'")
  })
})
