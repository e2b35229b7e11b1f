import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')

/** The shape of the generated client the bench uses: construct with an adapter, raw query, lifecycle. */
export interface BenchPrismaClient {
  $connect(): Promise<void>
  $disconnect(): Promise<void>
  $queryRawUnsafe(sql: string): Promise<unknown>
}
export type BenchPrismaClientClass = new (options: { adapter: unknown }) => BenchPrismaClient

/**
 * Generates the bench's Prisma client (once; `prisma/generated` is not in git) and loads it.
 * `prisma generate` only checks that `PRISMA_SCHEMA_ENGINE_BINARY` names a file and never runs it
 * (Prisma 7 uses the WASM query compiler), so Node's own binary stands in and nothing is downloaded.
 */
export async function loadPrismaClient(): Promise<BenchPrismaClientClass> {
  const generated = join(packageDir, 'prisma', 'generated', 'index.js')
  if (!existsSync(generated)) {
    const cli = createRequire(join(packageDir, 'package.json')).resolve('prisma/build/index.js')
    execFileSync(process.execPath, [cli, 'generate', '--schema', 'prisma/schema.prisma'], {
      cwd: packageDir,
      env: {
        ...process.env,
        PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
        CHECKPOINT_DISABLE: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  }
  // The prisma-client-js output is CommonJS.
  const mod = createRequire(import.meta.url)(generated) as { PrismaClient: BenchPrismaClientClass }
  return mod.PrismaClient
}
