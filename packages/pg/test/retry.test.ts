import { inspect } from 'node:util'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { type ConnectionSettings, runRetryCases, TEST_URLS } from '@rds-iam/testkit'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { Client, getTokenProvider, Pool } from '../src/index.js'

const configOf = (s: ConnectionSettings) => ({
  host: s.host,
  port: s.port,
  user: s.user,
  database: s.database,
  ssl: s.ssl,
  iam: s.iam,
})

// Every way to connect retries the same way: the shared table of retry cases.
runRetryCases({
  adapter: 'pg',
  engine: 'postgres',
  entryPoints: [
    {
      name: 'Pool.query',
      async run(s) {
        const pool = new Pool({ ...configOf(s), max: 2 })
        try {
          return (await pool.query('select 1 as one')).rows
        } finally {
          await pool.end()
        }
      },
    },
    {
      name: 'Pool.connect',
      async run(s) {
        const pool = new Pool({ ...configOf(s), max: 2 })
        try {
          const client = await pool.connect()
          try {
            return (await client.query('select 1 as one')).rows
          } finally {
            client.release()
          }
        } finally {
          await pool.end()
        }
      },
    },
    {
      name: 'Pool.query(callback)',
      async run(s) {
        const pool = new Pool({ ...configOf(s), max: 2 })
        try {
          return await new Promise((resolve, reject) =>
            pool.query('select 1 as one', (err, res) => (err ? reject(err) : resolve(res.rows))),
          )
        } finally {
          await pool.end()
        }
      },
    },
    {
      name: 'Client.connect',
      async run(s) {
        const client = new Client(configOf(s))
        await client.connect()
        try {
          return (await client.query('select 1 as one')).rows
        } finally {
          await client.end()
        }
      },
    },
  ],
  expectAuthCause: (cause) => expect((cause as { code?: string }).code).toBe('28000'),
  async connectToHangup({ host, port }) {
    const client = new Client({
      host,
      port,
      user: 'app',
      ssl: false,
      iam: {
        region: 'us-east-1',
        insecure: true,
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
      },
    })
    return client.connect().then(
      () => undefined,
      (err: unknown) => err,
    )
  },
})

// What only pg's objects can show: a retried Client is the same object, listeners intact.
describe('pg objects across retries', () => {
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'postgres', upstream: TEST_URLS.postgres })
  })
  afterAll(() => emu?.stop())
  beforeEach(() => emu.faults.reset())

  // A user per test keeps core's process-wide token cache (keyed by user) out of the counts.
  let n = 0
  const settings = () => ({
    host: 'localhost',
    port: emu.port,
    user: `retry_user_${process.pid}_${n++}`,
    database: 'test',
    ssl: { ca: emu.ca },
    iam: {
      region: emu.region,
      credentials: emu.credentials[0]!,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    },
  })

  test('Client.connect() retries on the same object: listeners kept, fresh token per attempt', async () => {
    const client = new Client(settings())
    let ended = 0
    client.on('end', () => {
      ended += 1
    })
    const before = emu.stats()
    emu.faults.rejectNext(2)
    const connected = await client.connect()
    try {
      expect(connected).toBe(client)
      expect(client).toBeInstanceOf(pg.Client)
      expect((await client.query('select 41 + 1 as answer')).rows).toEqual([{ answer: 42 }])
      expect(emu.stats().rejected.InvalidToken - before.rejected.InvalidToken).toBe(2)
      expect(getTokenProvider(client)?.stats().signed).toBe(3)
      expect(inspect(client, { depth: 4 })).not.toContain('X-Amz-Signature')
    } finally {
      await client.end()
    }
    expect(ended).toBe(1)
  })

  test('Client.connect(callback) form retries too', async () => {
    const client = new Client(settings())
    emu.faults.rejectNext(1)
    await new Promise<void>((resolve, reject) =>
      client.connect((err: Error | null) => (err ? reject(err) : resolve())),
    )
    try {
      expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }])
    } finally {
      await client.end()
    }
  })

  test('pool.connect(callback) and pool.query(callback) retry', async () => {
    const pool = new Pool({ ...settings(), max: 2 })
    try {
      emu.faults.rejectNext(1)
      const rows = await new Promise((resolve, reject) =>
        pool.query('select 7 as seven', (err, res) => (err ? reject(err) : resolve(res.rows))),
      )
      expect(rows).toEqual([{ seven: 7 }])
      emu.faults.rejectNext(2)
      const held = await pool.connect()
      const second = await new Promise<pg.PoolClient>((resolve, reject) =>
        pool.connect((err, c) => (err || !c ? reject(err) : resolve(c))),
      )
      held.release()
      second.release()
      expect(getTokenProvider(pool)?.stats().signed).toBeGreaterThanOrEqual(3)
    } finally {
      await pool.end()
    }
  })
})
