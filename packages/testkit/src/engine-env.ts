import { TEST_URLS as SERVICE_URLS, START_COMMANDS } from '@rds-iam/test-services'
import type { Engine } from './conformance-types.js'

/**
 * Upstream URLs, from env with the local-service defaults (DESIGN §7), by engine: `dsql` is the
 * PostgreSQL the DSQL emulator fronts (so `TEST_URLS[engine]` works for every non-PGlite engine).
 */
export const TEST_URLS: Readonly<typeof SERVICE_URLS & { dsql: string }> = Object.freeze({
  ...SERVICE_URLS,
  dsql: SERVICE_URLS.postgres,
})

const HOW_TO_START: Record<Engine, string> = {
  postgres: `start PostgreSQL (${START_COMMANDS.postgres.local}, or ${START_COMMANDS.postgres.docker}) and/or set RDS_IAM_TEST_PG_URL; or leave it out with RDS_IAM_TEST_ENGINES=pglite,mysql`,
  mysql: `start MariaDB/MySQL (${START_COMMANDS.mysql.local}, or ${START_COMMANDS.mysql.docker}) and/or set RDS_IAM_TEST_MYSQL_URL; or leave it out with RDS_IAM_TEST_ENGINES=postgres,pglite`,
  pglite:
    'PGlite is embedded (@electric-sql/pglite); reinstall dependencies with `npx -y pnpm@10.34.8 install`',
  dsql: `the DSQL emulator fronts the local PostgreSQL: start it (${START_COMMANDS.postgres.local}, or ${START_COMMANDS.postgres.docker}) and/or set RDS_IAM_TEST_PG_URL; or leave it out with RDS_IAM_TEST_ENGINES=postgres,pglite,mysql`,
}

/** The fix to print when an engine's database cannot be reached. */
export function howToStart(engine: Engine): string {
  return HOW_TO_START[engine]
}

/**
 * The engines to run: the harness's, narrowed by `RDS_IAM_TEST_ENGINES` (comma-separated), the
 * way Kysely narrows dialects. An unknown name fails loudly rather than silently running nothing.
 */
export function selectedEngines(supported: readonly Engine[]): Engine[] {
  const raw = process.env.RDS_IAM_TEST_ENGINES
  if (raw === undefined || raw.trim() === '') return [...supported]
  const wanted = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  for (const name of wanted) {
    if (name !== 'postgres' && name !== 'pglite' && name !== 'mysql' && name !== 'dsql') {
      throw new Error(`RDS_IAM_TEST_ENGINES: unknown engine "${name}" (use postgres, pglite, mysql, dsql)`)
    }
  }
  return supported.filter((engine) => wanted.includes(engine))
}
