import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// Issue 8, item 11, for this package: its ESM and CommonJS builds loaded in one process answer
// getTokenProvider() for each other's configs and pools, share core's token cache, and throw
// errors both recognise. Runs the BUILT files in a child process.
const mjs = fileURLToPath(new URL('../dist/index.mjs', import.meta.url))
const cjs = fileURLToPath(new URL('../dist/index.cjs', import.meta.url))

const probe = `
import { createRequire } from 'node:module'
const esm = await import(${JSON.stringify(mjs)})
const cj = createRequire(import.meta.url)(${JSON.stringify(cjs)})
const iam = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }
const host = 'dual.abcdefghijkl.eu-west-1.rds.amazonaws.com'
const fromCjs = cj.withIam({ host, user: 'dual_mysql2_user', iam })
const fromEsm = esm.withIam({ host, user: 'dual_mysql2_user', iam })
const pool = cj.createPool({ host, user: 'dual_mysql2_pool', iam })
const out = {}
out.twoCopies = esm.withIam !== cj.withIam
out.lookupAcross = [esm.getTokenProvider(fromCjs) !== undefined, cj.getTokenProvider(fromEsm) !== undefined, esm.getTokenProvider(pool) === cj.getTokenProvider(pool)]
const a = await esm.getTokenProvider(fromEsm).getToken()
const b = await cj.getTokenProvider(fromCjs).getToken()
out.sameToken = a === b
let err
try { esm.withIam({ host, user: 'x', password: 'p', iam }) } catch (e) { err = e }
out.errorAcross = [err instanceof cj.RdsIamError, err instanceof esm.RdsIamError]
pool.end(() => {})
console.log(JSON.stringify(out))
`

describe('the ESM and CommonJS builds of @rds-iam/mysql2 in one process', () => {
  it('share providers, the token cache and the error class', () => {
    for (const file of [mjs, cjs]) {
      if (!existsSync(file))
        throw new Error(`${file} is missing: run \`npx tsdown\` in packages/mysql2 (and packages/core)`)
    }
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' })
    expect(JSON.parse(out)).toEqual({
      twoCopies: true,
      lookupAcross: [true, true, true],
      sameToken: true,
      errorAcross: [true, true],
    })
  })
})
