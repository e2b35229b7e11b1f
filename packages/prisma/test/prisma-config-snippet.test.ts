import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'

const run = promisify(execFile)
const packageDir = fileURLToPath(new URL('..', import.meta.url))

// Review finding: the README's prisma.config.ts used `env('DATABASE_URL')` from prisma/config,
// which throws PrismaConfigEnvError while the config loads, so with DATABASE_URL unset (CI, Docker
// builds) every Prisma command failed, `prisma generate` included, though generate needs no URL.
// This runs the README's own snippet, as written there, with DATABASE_URL unset.
test('the README prisma.config.ts snippet: `prisma generate` works with DATABASE_URL unset', async () => {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8')
  const snippet = /```ts\n(\/\/ prisma\.config\.ts\n[\s\S]*?)```/.exec(readme)?.[1]
  expect(snippet, 'README has a ```ts block starting with // prisma.config.ts').toBeDefined()

  // Inside node_modules so that the snippet's `import … from 'prisma/config'` resolves to the
  // prisma this package installs, as it does in a user's project.
  const cache = join(packageDir, 'node_modules', '.cache')
  mkdirSync(cache, { recursive: true })
  const dir = mkdtempSync(join(cache, 'rds-iam-prisma-config-'))
  try {
    mkdirSync(join(dir, 'prisma'))
    writeFileSync(join(dir, 'prisma.config.ts'), snippet!)
    writeFileSync(
      join(dir, 'prisma', 'schema.prisma'),
      'generator client {\n  provider = "prisma-client-js"\n  output   = "./generated"\n}\n\ndatasource db {\n  provider = "postgresql"\n}\n',
    )
    const cli = fileURLToPath(import.meta.resolve('prisma/build/index.js'))
    const { DATABASE_URL: _unset, ...env } = process.env
    const { stdout, stderr } = await run(process.execPath, [cli, 'generate'], {
      cwd: dir,
      env: {
        ...env,
        // generate only checks that this names an existing file (see generate-clients.ts).
        PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
        CHECKPOINT_DISABLE: '1',
      },
      timeout: 60_000,
    })
    expect(`${stdout}${stderr}`).toMatch(/Loaded Prisma config from prisma\.config\.ts/)
    expect(`${stdout}${stderr}`).toMatch(/Generated Prisma Client/)
    expect(`${stdout}${stderr}`).not.toMatch(/PrismaConfigEnvError/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
