import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Pool } from '../src/index.js'

// Issue 8, item 3: Pool.connect()/query() prepare (limiter permit + token) only when pg-pool
// will open a connection. Callers that will wait for a pooled client must not spend permits:
// 50 callers on a pool of 5 take 5, not 50 (which at 10/s would hold callers ~4 s for nothing).

type Bucket = { waiting: number }
const limiterBucket = (endpoint: string): Bucket | undefined =>
  (globalThis as unknown as Record<symbol, { buckets: Map<string, Bucket> } | undefined>)[
    Symbol.for('rds-iam.core.v1')
  ]?.buckets.get(endpoint)

describe('pg pool: permits only for connections that will be opened', () => {
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'postgres', upstream: TEST_URLS.postgres })
  })
  afterAll(() => emu?.stop())

  test('50 concurrent pool.query() on max 5 with a 10/s limiter: nobody queues at the limiter', async () => {
    const pool = new Pool({
      host: 'localhost',
      port: emu.port,
      user: `prefetch_user_${process.pid}`,
      database: 'test',
      ssl: { ca: emu.ca },
      max: 5,
      iam: { region: emu.region, credentials: emu.credentials[0]!, maxNewConnectionsPerSecond: 10 },
    })
    try {
      const queries = Array.from({ length: 50 }, (_, i) => pool.query('select $1::int as n', [i]))
      await new Promise((resolve) => setImmediate(resolve))
      expect(limiterBucket(`localhost:${emu.port}`)?.waiting ?? 0).toBe(0)
      const rows = (await Promise.all(queries)).map((r) => r.rows[0].n)
      expect(rows).toEqual(Array.from({ length: 50 }, (_, i) => i))
      expect(emu.stats().accepted).toBeLessThanOrEqual(5)
    } finally {
      await pool.end()
    }
  })
})
