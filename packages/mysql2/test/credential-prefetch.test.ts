import { createRequire } from 'node:module'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import type { Connection } from 'mysql2'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  connectWithRetry,
  createConnection,
  createPool,
  type Mysql2PromiseModuleLike,
  RdsIamError,
  withIam,
} from '../src/index.js'
import {
  createConnection as createPromiseConnection,
  createPool as createPromisePool,
} from '../src/promise.js'

// Issue 8 item 3: the token used to be fetched inside an already-open handshake, so with a hung
// credential source the server's or mysql2's timeout fired first (ETIMEDOUT, "Connection lost")
// and the server held a half-open login. The token is now prepared before the socket opens:
// every caller fails with RDS_IAM_CREDENTIALS and the server sees no connection at all.
const require = createRequire(import.meta.url)
type Mysql2 = typeof import('mysql2')
const VERSIONS: [string, Mysql2, Mysql2PromiseModuleLike][] = [
  ['mysql2 3.9.0', require('mysql2'), require('mysql2/promise')],
  ['mysql2 latest', require('mysql2-latest'), require('mysql2-latest/promise')],
]
const CALLERS = 20

// Never answers, as IMDS does from a container without a route to it.
const hung = () => new Promise<never>(() => {})

describe.each(VERSIONS)('%s: a hung credential source', (_label, mysql2, mysql2Promise) => {
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'mysql', upstream: TEST_URLS.mysql })
  })
  afterAll(() => emu?.stop())

  let n = 0
  // mysql2's connect timer (200 ms) is shorter than the credential timeout (400 ms): a timer
  // running while the token is prepared would win the race and report ETIMEDOUT.
  const config = () => ({
    host: 'localhost',
    port: emu.port,
    user: `prefetch_user_${n++}`,
    database: 'test',
    ssl: { ca: emu.ca },
    connectTimeout: 200,
    iam: { region: emu.region, credentials: hung, credentialTimeoutMs: 400 },
  })
  const serverSaw = () => {
    const s = emu.stats()
    return s.protocolErrors + s.accepted + Object.values(s.rejected).reduce((a, b) => a + b, 0)
  }
  const expectCredentialsError = (err: unknown) => {
    expect(err).toBeInstanceOf(RdsIamError)
    expect((err as RdsIamError).code).toBe('RDS_IAM_CREDENTIALS')
  }

  test('createPool: 20 pool.query() on 10 connections → 20 RDS_IAM_CREDENTIALS, no connection reached the server', async () => {
    const before = serverSaw()
    const pool = createPool({ ...config(), connectionLimit: 10 }, { mysql2 })
    try {
      const errors = await Promise.all(
        Array.from(
          { length: CALLERS },
          () => new Promise((resolve) => pool.query('select 1', (err) => resolve(err))),
        ),
      )
      for (const err of errors) expectCredentialsError(err)
      expect(serverSaw()).toBe(before)
    } finally {
      await new Promise<void>((resolve) => pool.end(() => resolve()))
    }
  })

  test('promise createPool and promise createConnection → RDS_IAM_CREDENTIALS', async () => {
    const before = serverSaw()
    const pool = createPromisePool({ ...config(), connectionLimit: 2 }, { mysql2 })
    try {
      const errors = await Promise.all([
        pool.query('select 1').catch((err: unknown) => err),
        pool.execute('select 1').catch((err: unknown) => err),
        createPromiseConnection(config(), { mysql2: mysql2Promise }).catch((err: unknown) => err),
      ])
      for (const err of errors) expectCredentialsError(err)
      expect(serverSaw()).toBe(before)
    } finally {
      await pool.end()
    }
  })

  test('callback createConnection and connectWithRetry → RDS_IAM_CREDENTIALS, not ETIMEDOUT', async () => {
    const before = serverSaw()
    const conn = createConnection(config(), { mysql2 })
    const viaEvent = new Promise((resolve) => conn.once('error', resolve))
    const viaRetry = new Promise((resolve) =>
      connectWithRetry(config(), (err: Error | null, c?: Connection) => resolve(err ?? c), { mysql2 }),
    )
    expectCredentialsError(await viaEvent)
    expectCredentialsError(await viaRetry)
    conn.destroy()
    expect(serverSaw()).toBe(before)
  })

  test('callback createConnection destroyed while its token is prepared: no socket, no timer, no late error', async () => {
    const before = serverSaw()
    let answer!: () => void
    const answered = new Promise<void>((resolve) => {
      answer = resolve
    })
    const slow = async () => {
      await answered
      return emu.credentials[0]!
    }
    const conn = createConnection({ ...config(), iam: { region: emu.region, credentials: slow } }, { mysql2 })
    const errors: unknown[] = []
    conn.on('error', (err) => errors.push(err))
    conn.destroy()
    answer()
    // Lets the prepared token arrive and everything it schedules run.
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve))
    expect((conn as unknown as { connectTimeout?: unknown }).connectTimeout ?? null).toBeNull()
    expect(errors).toEqual([])
    expect(serverSaw()).toBe(before)
  })

  test('your own mysql2 pool from withIam → RDS_IAM_CREDENTIALS, no connection reached the server', async () => {
    const before = serverSaw()
    // With your own pool, mysql2's connect timer starts before the token is ready: keep it longer
    // than iam.credentialTimeoutMs (the default 10 s of both is a tie).
    const pool = mysql2.createPool(withIam({ ...config(), connectTimeout: 5000, connectionLimit: 2 }))
    try {
      const error = await new Promise((resolve) => pool.query('select 1', (err: unknown) => resolve(err)))
      expectCredentialsError(error)
      expect(serverSaw()).toBe(before)
    } finally {
      await new Promise<void>((resolve) => pool.end(() => resolve()))
    }
  })
})
