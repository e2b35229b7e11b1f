import { TEST_URLS } from '@rds-iam/testkit'
import mysql from 'mysql2/promise'
import pg from 'pg'

/** Runs statements on the real server directly (not through the adapter), to own a database or schema. */
export async function adminExec(engine: 'postgres' | 'mysql', statements: string[]): Promise<void> {
  if (engine === 'postgres') {
    const client = new pg.Client({ connectionString: TEST_URLS.postgres })
    await client.connect()
    try {
      for (const s of statements) await client.query(s)
    } finally {
      await client.end()
    }
    return
  }
  const conn = await mysql.createConnection(TEST_URLS.mysql)
  try {
    for (const s of statements) await conn.query(s)
  } finally {
    await conn.end()
  }
}
