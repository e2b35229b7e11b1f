import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ConnectionOptions } from 'node:tls'
import { fileURLToPath } from 'node:url'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { requireService, TEST_URLS } from '@rds-iam/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createConnectionAuth } from './connection-auth.js'
import { rdsTls, resolveTls } from './rds-tls.js'
import { uniqueUser } from './test-support/unique.js'

// Reviewer, verified: a user's `ssl` object without `ca` ({ rejectUnauthorized: true }, {},
// { require: true }, { minVersion }) reached the driver as it was, so Node verified the server
// against its DEFAULT roots. Those lack the RDS CAs, so a direct RDS connection failed with
// "self-signed certificate in certificate chain". Now such an object gets the RDS bundle.
//
// Offline there is no server with an RDS certificate, so success against RDS cannot be shown.
// What can be shown is that Node's defaults are no longer what decides: the real pg driver runs in
// a child process whose default roots TRUST the emulator's CA (NODE_EXTRA_CA_CERTS). There the
// user's object as written logs in, while the options resolveTls makes from it are refused by TLS
// before any token is sent: their `ca` (the RDS bundle) replaced Node's defaults.

const REACHABLE = await requireService('postgres')
const it_ = REACHABLE ? it : it.skip
const pkgDir = fileURLToPath(new URL('..', import.meta.url))
const builtCore = join(pkgDir, 'dist', 'index.mjs')

// Connects with the real pg driver once per case; reports 'ok' or the driver's error. Input comes
// on stdin so the token is never on a command line.
const PROBE = `
import { createRequire } from 'node:module'
const input = JSON.parse(await new Promise((resolve) => {
  let text = ''
  process.stdin.setEncoding('utf8').on('data', (c) => { text += c }).on('end', () => resolve(text))
}))
const pg = createRequire(${JSON.stringify(join(pkgDir, 'package.json'))})('pg')
const cases = { ...input.cases }
// The built core, so these two are computed where Node's defaults include the emulator's CA, and
// keep their checkServerIdentity function.
const core = await import(input.fromBuild)
if (typeof core.nodeDefaultCa !== 'function') throw new Error('packages/core/dist is stale: run npx tsdown in packages/core')
cases.nodeDefaultCa = core.resolveTls({ ca: core.nodeDefaultCa() }, {}, { host: input.host })
cases.builtNoCa = core.resolveTls({ rejectUnauthorized: true }, {}, { host: input.host })
const out = {}
for (const [label, ssl] of Object.entries(cases)) {
  const client = new pg.Client({ host: input.host, port: input.port, user: input.user, database: 'test',
    password: input.password, ssl, connectionTimeoutMillis: 10000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('select 1')
    out[label] = 'ok'
  } catch (err) {
    out[label] = { code: err.code, message: err.message }
  } finally {
    await client.end().catch(() => {})
  }
}
console.log(JSON.stringify(out))
`

function probe(caFile: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--input-type=module', '-e', PROBE],
      { env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile }, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`probe failed: ${stderr || err.message}`))
        else resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '{}'))
      },
    )
    child.stdin?.end(JSON.stringify(input))
  })
}

// The JSON hop keeps what decides the chain check (`ca`, `rejectUnauthorized`, `servername`) and
// drops resolveTls's checkServerIdentity function; pg then checks the name against `host`, the
// same name here. The chain is verified, and refused, before any name check runs.
const serializable = (ssl: false | ConnectionOptions) => JSON.parse(JSON.stringify(ssl)) as unknown

describe('a user ssl object without `ca` gets the RDS bundle, not Node’s default roots (real pg)', () => {
  let emu: Emulator | undefined
  let dir: string | undefined
  beforeAll(async () => {
    if (!REACHABLE) return
    emu = await startEmulator({ engine: 'postgres', upstream: TEST_URLS.postgres })
    dir = await mkdtemp(join(tmpdir(), 'rds-iam-ssl-bundle-'))
  }, 60_000)
  afterAll(async () => {
    await emu?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it_(
    'where Node’s defaults trust the server, the resolved options are still refused by TLS',
    async () => {
      if (!emu || !dir) throw new Error('the postgres emulator did not start')
      if (!existsSync(builtCore))
        throw new Error(`${builtCore} is missing: run \`npx tsdown\` in packages/core`)
      const caFile = join(dir, 'emulator-ca.pem')
      await writeFile(caFile, emu.ca)
      const iam = { credentials: emu.credentials[0]!, region: emu.region, maxNewConnectionsPerSecond: 0 }
      const user = uniqueUser('ssl_bundle')
      const auth = createConnectionAuth(
        { host: emu.host, port: emu.port, user, iam },
        { defaultPort: 5432, urlOption: 'connectionString', engine: 'postgres' },
      )
      const objects = {
        rejectUnauthorized: { rejectUnauthorized: true },
        empty: {},
        require: { require: true },
        minVersion: { minVersion: 'TLSv1.2' },
      }
      const cases: Record<string, unknown> = {
        // Control: the object as written, Node's default roots (which here include the CA).
        asWritten: objects.rejectUnauthorized,
        // The emulator's CA given by the user: kept as is, so the login goes through.
        ownCa: serializable(resolveTls({ ca: emu.ca }, iam, { host: emu.host })),
      }
      for (const [label, mine] of Object.entries(objects)) {
        const ssl = resolveTls(mine, iam, { host: emu.host })
        if (ssl === false) throw new Error('expected TLS options')
        expect(ssl.ca).toEqual(rdsTls().ca)
        expect(ssl).toMatchObject({ ...mine, rejectUnauthorized: true })
        cases[label] = serializable(ssl)
      }
      const before = emu.stats().accepted
      const results = await probe(caFile, {
        host: emu.host,
        port: emu.port,
        user,
        password: await auth.nextToken(),
        cases,
        fromBuild: builtCore,
      })

      expect(results.asWritten).toBe('ok')
      expect(results.ownCa).toBe('ok')
      for (const label of [...Object.keys(objects), 'builtNoCa']) {
        expect(results[label], label).toMatchObject({
          message: expect.stringMatching(/self[- ]signed certificate in certificate chain|local issuer/),
        })
      }
      // ca: nodeDefaultCa() is the way to choose Node's roots on purpose: here they trust the CA.
      expect(results.nodeDefaultCa).toBe('ok')
      expect(emu.stats().accepted - before).toBe(3)
    },
    60_000,
  )
})
