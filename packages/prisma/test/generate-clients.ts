import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const SCHEMAS = ['pg', 'mysql']

/**
 * Runs `prisma generate` for the test schemas before any test file (vitest globalSetup), so a
 * clean clone needs nothing generated in git. `prisma generate` would download the schema engine;
 * Prisma 7 only checks that `PRISMA_SCHEMA_ENGINE_BINARY` names an existing file and never runs it
 * for generate (the client itself uses the WASM query compiler), so Node's own binary stands in.
 */
export function generateClients(packageDir: URL, schemas: string[]): void {
  const cli = createRequire(new URL('package.json', packageDir)).resolve('prisma/build/index.js')
  for (const schema of schemas) {
    execFileSync(process.execPath, [cli, 'generate', '--schema', schema], {
      cwd: fileURLToPath(packageDir),
      env: {
        ...process.env,
        PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
        CHECKPOINT_DISABLE: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  }
}

export default function setup(): void {
  generateClients(
    new URL('..', import.meta.url),
    SCHEMAS.map((name) => `test/fixtures/${name}/schema.prisma`),
  )
}
