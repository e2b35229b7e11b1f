import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// Issue 8, item 11: an app (or two of its dependencies) can load the ESM and the CommonJS build
// of core in one process. They must share one token cache and one limiter per endpoint, and
// `instanceof RdsIamError` must hold across them. Runs the BUILT files in a child process.

const mjs = fileURLToPath(new URL('../dist/index.mjs', import.meta.url))
const cjs = fileURLToPath(new URL('../dist/index.cjs', import.meta.url))

const probe = `
import { createRequire } from 'node:module'
const esm = await import(${JSON.stringify(mjs)})
const cj = createRequire(import.meta.url)(${JSON.stringify(cjs)})
const out = {}
out.twoCopies = esm.RdsIamError !== cj.RdsIamError
const fromEsm = new esm.RdsIamError('RDS_IAM_AUTH_FAILED', 'refused', 'grant rds_iam')
const fromCjs = new cj.RdsIamError('RDS_IAM_CREDENTIALS', 'no credentials', 'configure them')
out.instanceofAcross = [fromCjs instanceof esm.RdsIamError, fromEsm instanceof cj.RdsIamError]
out.isRdsIamErrorAcross = [esm.isRdsIamError(fromCjs), cj.isRdsIamError(fromEsm)]
out.plainErrorIs = [new Error('x') instanceof esm.RdsIamError, esm.isRdsIamError({ code: 'RDS_IAM_AUTH_FAILED' })]
class Narrow extends esm.RdsIamError {}
out.subclassStaysNarrow = [new Narrow('RDS_IAM_AUTH_FAILED', 'm', 'h') instanceof Narrow, fromCjs instanceof Narrow]
// An exhausted retry from one copy is a final verdict for the other.
const pam = Object.assign(new Error('PAM authentication failed for user "app"'), { code: '28000' })
out.authErrorAcross = cj.isAuthError(new esm.RdsIamError('RDS_IAM_AUTH_FAILED', 'm', 'h', { cause: pam }))

const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }
const opts = { hostname: 'dual.abcdefghijkl.eu-west-1.rds.amazonaws.com', port: 5432, username: 'dual_user', credentials: creds }
const a = esm.createTokenProvider(opts)
const b = cj.createTokenProvider(opts)
const ta = await a.getToken()
const tb = await b.getToken()
out.sameToken = ta === tb
out.statsFromCjs = b.stats()

// One limiter: a 1/s budget spent through one copy makes the other copy wait.
await esm.throttleNewConnection('dual-endpoint:5432', 1)
let passed = false
cj.throttleNewConnection('dual-endpoint:5432', 1).then(() => { passed = true })
await new Promise((resolve) => setImmediate(resolve))
out.cjsWaitsForEsmBudget = !passed
console.log(JSON.stringify(out))
process.exit(0)
`

describe('the ESM and CommonJS builds of core in one process', () => {
  it('share one registry and limiter, and recognise each other’s RdsIamError', () => {
    for (const file of [mjs, cjs]) {
      if (!existsSync(file)) throw new Error(`${file} is missing: run \`npx tsdown\` in packages/core`)
    }
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' })
    const result = JSON.parse(out.trim().split('\n').pop() ?? '{}')
    expect(result).toEqual({
      twoCopies: true,
      instanceofAcross: [true, true],
      isRdsIamErrorAcross: [true, true],
      plainErrorIs: [false, false],
      subclassStaysNarrow: [true, false],
      authErrorAcross: false,
      sameToken: true,
      statsFromCjs: { signed: 1, hits: 1, inflightJoins: 0, failures: 0 },
      cjsWaitsForEsmBudget: true,
    })
  })
})
