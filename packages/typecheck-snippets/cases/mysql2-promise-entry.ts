// Issue 8, item 13: the `@rds-iam/mysql2/promise` entry resolves in every mode, node10 included
// (TypeScript's default for `module: commonjs`).
import { createConnection, createPool, getTokenProvider } from '@rds-iam/mysql2/promise'

const pool = createPool({ host, user: 'app', database: 'app', iam: true })
const [rows] = await pool.query('select 1')
const connection = await createConnection({ host, user: 'app', iam: true })
await connection.end()
export const seen = [rows, getTokenProvider(pool)?.stats()]
