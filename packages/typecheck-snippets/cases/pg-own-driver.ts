// pg: `withIam` output goes into pg's own Pool and Client; `ssl` stays pg's type.
import { Pool, withIam } from '@rds-iam/pg'
import pg from 'pg'

export const pool = new pg.Pool(withIam({ host, user: 'app', database: 'app', iam: true }))
export const client = new pg.Client(withIam({ connectionString: `postgres://app@${host}/app`, iam: true }))
// @ts-expect-error ssl is pg's boolean or TLS options, never a number
new Pool({ host, user: 'app', iam: true, ssl: 12345 })
