import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { DataSource as DataSource03, DataSourceOptions, EntitySchema as EntitySchema03 } from 'typeorm'

const require = createRequire(import.meta.url)

/** The TypeORM copies installed side by side (pnpm aliases); `typeorm` itself is the lowest 0.3. */
export const TYPEORM_ALIASES = [
  'typeorm',
  'typeorm-0.3-latest',
  'typeorm-1-lowest',
  'typeorm-1-latest',
] as const
export type TypeormAlias = (typeof TYPEORM_ALIASES)[number]

/** One TypeORM under test with the pg and mysql2 that copy resolves (what it would load itself). */
export interface TypeormUnderTest {
  alias: TypeormAlias
  version: string
  major: 0 | 1
  DataSource: new (options: DataSourceOptions) => DataSource03
  EntitySchema: typeof EntitySchema03
  /** The `pg` this TypeORM copy resolves (passed as `driver`, as an app with this copy would load it). */
  pg: { Pool: new () => unknown; Client: new () => unknown }
  mysql2: {
    createPool(config: object): unknown
    createConnection(config: object): unknown
    createPoolCluster(config?: object): unknown
  }
}

/**
 * Loads one TypeORM copy. The 1.x classes are typed as 0.3's: the tests use the API both share
 * (DataSource, EntitySchema, repositories, QueryRunner, migrations).
 */
export function loadTypeorm(alias: TypeormAlias): TypeormUnderTest {
  const manifest = join(dirname(require.resolve(alias)), 'package.json')
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }
  const fromTypeorm = createRequire(manifest)
  const mod = require(alias) as {
    DataSource: TypeormUnderTest['DataSource']
    EntitySchema: typeof EntitySchema03
  }
  return {
    alias,
    version,
    major: version.startsWith('0.') ? 0 : 1,
    DataSource: mod.DataSource,
    EntitySchema: mod.EntitySchema,
    pg: fromTypeorm('pg'),
    mysql2: fromTypeorm('mysql2'),
  }
}
