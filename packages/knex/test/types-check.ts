import { withIam } from '../src/index.js'

// Compiled by `tsc -p packages/knex`: a knexfile typed as knex's own Config goes through withIam,
// and the result is what knex() takes.
type KnexConfig = import('knex', { with: { 'resolution-mode': 'require' }}).Knex.Config

export function wrapTyped(typed: KnexConfig): KnexConfig {
  return withIam(typed)
}

export const literal: KnexConfig = withIam({
  client: 'pg',
  connection: { host: 'db.abc.eu-west-1.rds.amazonaws.com', user: 'app', iam: { region: 'eu-west-1' } },
  pool: { min: 0, max: 4 },
  migrations: { tableName: 'knex_migrations' },
})
