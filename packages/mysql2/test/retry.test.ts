import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { type ConnectionSettings, type Row, runRetryCases, TEST_URLS } from '@rds-iam/testkit'
import type { Connection } from 'mysql2'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import {
  connectWithRetry,
  createConnection,
  createPool,
  createPoolCluster,
  getTokenProvider,
  RdsIamError,
} from '../src/index.js'
import {
  createConnection as createPromiseConnection,
  createPool as createPromisePool,
} from '../src/promise.js'

// Every way to connect retries the same way: the shared table of retry cases.
const configOf = (s: ConnectionSettings) => ({
  host: s.host,
  port: s.port,
  user: s.user,
  database: s.database,
  ssl: s.ssl,
  iam: s.iam,
})

runRetryCases({
  adapter: 'mysql2',
  engine: 'mysql',
  entryPoints: [
    {
      name: 'promise createConnection',
      async run(s) {
        const conn = await createPromiseConnection(configOf(s))
        try {
          return (await conn.query('select 1 as one'))[0] as Row[]
        } finally {
          await conn.end()
        }
      },
    },
    {
      name: 'promise createPool query',
      async run(s) {
        const pool = createPromisePool({ ...configOf(s), connectionLimit: 2 })
        try {
          return (await pool.query('select 1 as one'))[0] as Row[]
        } finally {
          await pool.end()
        }
      },
    },
    {
      name: 'callback createPool query',
      async run(s) {
        const pool = createPool({ ...configOf(s), connectionLimit: 2 })
        try {
          return await new Promise<Row[]>((resolve, reject) =>
            pool.query('select 1 as one', (err, rows) => (err ? reject(err) : resolve(rows as Row[]))),
          )
        } finally {
          await new Promise<void>((resolve) => pool.end(() => resolve()))
        }
      },
    },
    {
      name: 'connectWithRetry',
      async run(s) {
        const conn = await new Promise<Connection>((resolve, reject) =>
          connectWithRetry(configOf(s), (err, c) => (err || !c ? reject(err) : resolve(c))),
        )
        try {
          return await new Promise<Row[]>((resolve, reject) =>
            conn.query('select 1 as one', (err, rows) => (err ? reject(err) : resolve(rows as Row[]))),
          )
        } finally {
          conn.destroy()
        }
      },
    },
  ],
  expectAuthCause: (cause) => expect((cause as { errno?: number }).errno).toBe(1045),
  connectToHangup: ({ host, port }) =>
    createPromiseConnection({
      host,
      port,
      user: 'app',
      iam: { region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' } },
    }).then(
      () => undefined,
      (err: unknown) => err,
    ),
})

describe('mysql2 objects across retries', () => {
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'mysql', upstream: TEST_URLS.mysql })
  })
  afterAll(() => emu?.stop())
  beforeEach(() => emu.faults.reset())

  // A user per test keeps core's process-wide token cache (keyed by user) out of the counts.
  let n = 0
  const settings = () => ({
    host: 'localhost',
    port: emu.port,
    user: `retry_user_${n++}`,
    database: 'test',
    ssl: { ca: emu.ca },
    iam: {
      region: emu.region,
      credentials: emu.credentials[0]!,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    },
  })

  test('promise createConnection retries with a new connection and a fresh token', async () => {
    const before = emu.stats()
    emu.faults.rejectNext(2)
    const conn = await createPromiseConnection(settings())
    try {
      const [rows] = await conn.query('select 41 + 1 as answer')
      expect(rows).toEqual([{ answer: 42 }])
      expect(emu.stats().rejected.InvalidToken - before.rejected.InvalidToken).toBe(2)
      expect(getTokenProvider(conn)?.stats().signed).toBe(3)
    } finally {
      await conn.end()
    }
  })

  test('callback pool getConnection/query/execute retry', async () => {
    const pool = createPool({ ...settings(), connectionLimit: 2 })
    try {
      emu.faults.rejectNext(2)
      const rows = await new Promise((resolve, reject) =>
        pool.query('select 7 as seven', (err, r) => (err ? reject(err) : resolve(r))),
      )
      expect(rows).toEqual([{ seven: 7 }])
      emu.faults.rejectNext(1)
      const held = await new Promise<Connection & { release(): void }>((resolve, reject) =>
        pool.getConnection((err, c) => (err ? reject(err) : resolve(c))),
      )
      emu.faults.rejectNext(1)
      const executed = await new Promise((resolve, reject) =>
        pool.execute('select ? as v', [5], (err, r) => (err ? reject(err) : resolve(r))),
      )
      expect(executed).toEqual([{ v: 5 }])
      held.release()
      expect(getTokenProvider(pool)?.stats().signed).toBeGreaterThanOrEqual(4)
    } finally {
      await new Promise<void>((resolve) => pool.end(() => resolve()))
    }
  })

  test('createPoolCluster: nodes added with iam get their own tokens and retries', async () => {
    const cluster = createPoolCluster()
    try {
      cluster.add('writer', { ...settings(), connectionLimit: 1 })
      cluster.add('reader', { ...settings(), connectionLimit: 1 })
      emu.faults.rejectNext(1)
      const conn = await new Promise<Connection & { release(): void }>((resolve, reject) =>
        cluster.getConnection('writer', (err, c) => (err ? reject(err) : resolve(c))),
      )
      const rows = await new Promise((resolve, reject) =>
        conn.query('select 3 as three', (e, r) => (e ? reject(e) : resolve(r))),
      )
      expect(rows).toEqual([{ three: 3 }])
      conn.release()
      const readerRows = await new Promise((resolve, reject) =>
        cluster.of('reader').query('select 4 as four', (e, r) => (e ? reject(e) : resolve(r))),
      )
      expect(readerRows).toEqual([{ four: 4 }])
    } finally {
      // mysql2's typings omit end()'s callback, which the runtime supports.
      await new Promise<void>((resolve) =>
        (cluster as unknown as { end(cb: () => void): void }).end(() => resolve()),
      )
    }
  })

  test('connectWithRetry is the callback API with retries', async () => {
    emu.faults.rejectNext(1)
    const conn = await new Promise<Connection>((resolve, reject) =>
      connectWithRetry(settings(), (err, c) => (err || !c ? reject(err) : resolve(c))),
    )
    try {
      const rows = await new Promise((resolve, reject) =>
        conn.query('select 1 as one', (e, r) => (e ? reject(e) : resolve(r))),
      )
      expect(rows).toEqual([{ one: 1 }])
    } finally {
      conn.destroy()
    }
  })

  test('callback createConnection does not retry: the 1045 reaches the caller', async () => {
    emu.faults.rejectNext(1)
    const conn = createConnection(settings())
    const error = await new Promise((resolve) => conn.once('error', resolve))
    expect((error as { errno?: number }).errno).toBe(1045)
    conn.destroy()
  })

  test('a credentials failure surfaces as RDS_IAM_CREDENTIALS, code intact (mysql2 rewrites plugin errors)', async () => {
    const error = await createPromiseConnection({
      ...settings(),
      iam: {
        region: emu.region,
        credentials: async () => {
          throw new Error('no credentials here')
        },
      },
    }).then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(error).toBeInstanceOf(RdsIamError)
    expect((error as RdsIamError).code).toBe('RDS_IAM_CREDENTIALS')
  })
})
