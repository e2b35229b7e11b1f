import { isRdsIamError } from '@rds-iam/core'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { getTokenProvider, Pool } from '../src/index.js'
import { type CountingRelay, startCountingRelay } from './counting-relay.js'

// Review finding: Pool.connect()/query() waited for a token even when an idle logged-in client (or
// a release in a full pool) would serve it. With the cached token aged out and the credential
// source hanging, a warm pool failed every query with RDS_IAM_CREDENTIALS after
// credentialTimeoutMs, where mysql2 served them at once. Only a caller for whom pg-pool opens a
// new connection may wait for the token; that one still gets its token before the socket opens.

const neverAnswers = () => new Promise<never>(() => {})

describe('pg pool: a credential outage does not stop clients that are already logged in', () => {
  let emu: Emulator
  let relay: CountingRelay
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'postgres', upstream: TEST_URLS.postgres })
    relay = await startCountingRelay(emu.port)
  })
  afterAll(async () => {
    await relay?.close()
    await emu?.stop()
  })

  let n = 0
  /** A pool whose credential source can be switched off; `breakCredentials()` also ages the token out. */
  const openPool = (max: number) => {
    let broken = false
    const pool = new Pool({
      host: '127.0.0.1',
      port: relay.port,
      user: `outage_user_${process.pid}_${n++}`,
      database: 'test',
      ssl: { ca: emu.ca },
      max,
      iam: {
        region: emu.region,
        credentials: () => (broken ? neverAnswers() : Promise.resolve(emu.credentials[0]!)),
        signingHostname: 'localhost',
        signingPort: emu.port,
        // Short, so a caller that wrongly waits for the token fails this test instead of passing late.
        credentialTimeoutMs: 200,
      },
    })
    const breakCredentials = () => {
      broken = true
      // The state of a token that aged out while the pool sat idle (>14 min).
      getTokenProvider(pool)!.invalidate()
    }
    return { pool, breakCredentials }
  }

  test('an idle client serves pool.query() and pool.connect() without waiting for the token', async () => {
    const { pool, breakCredentials } = openPool(2)
    try {
      await pool.query('select 1')
      expect(pool.idleCount).toBe(1)
      const connections = relay.connections()
      breakCredentials()

      expect((await pool.query('select 2 as two')).rows).toEqual([{ two: 2 }])
      const client = await pool.connect()
      try {
        expect((await client.query('select 3 as three')).rows).toEqual([{ three: 3 }])
      } finally {
        client.release()
      }
      // Served by the logged-in client: no new connection, so no token was needed.
      expect(relay.connections()).toBe(connections)
    } finally {
      await pool.end()
    }
  })

  test('in a full pool, a caller waits for a release, not for the token', async () => {
    const { pool, breakCredentials } = openPool(1)
    try {
      const held = await pool.connect()
      const connections = relay.connections()
      breakCredentials()
      const queued = pool.query('select 4 as four')
      held.release()
      expect((await queued).rows).toEqual([{ four: 4 }])
      expect(relay.connections()).toBe(connections)
    } finally {
      await pool.end()
    }
  })

  test('a caller behind a connection still waiting for its token takes a client released meanwhile; the opener fails before any socket', async () => {
    const { pool, breakCredentials } = openPool(2)
    try {
      const held = await pool.connect()
      const connections = relay.connections()
      breakCredentials()
      // One free slot: this caller makes pg-pool open a connection, so it waits for the token.
      const opener = pool.query('select 1').then(
        () => new Error('connected without credentials'),
        (e: unknown) => e,
      )
      // No free slot left except the one being prepared: this caller waits for a client.
      const waiter = pool.query('select 5 as five')
      held.release()
      expect((await waiter).rows).toEqual([{ five: 5 }])
      const err = await opener
      expect(isRdsIamError(err)).toBe(true)
      expect(err).toMatchObject({ code: 'RDS_IAM_CREDENTIALS' })
      // The credentials-before-socket rule still holds for the opener.
      expect(relay.connections()).toBe(connections)
    } finally {
      await pool.end()
    }
  })

  test('a credential source that fails at once is not asked again by every query the warm pool serves', async () => {
    let calls = 0
    let broken = false
    const pool = new Pool({
      host: '127.0.0.1',
      port: relay.port,
      user: `outage_user_${process.pid}_${n++}`,
      database: 'test',
      ssl: { ca: emu.ca },
      max: 1,
      iam: {
        region: emu.region,
        credentials: () => {
          calls++
          return broken
            ? Promise.reject(new Error('credential source down'))
            : Promise.resolve(emu.credentials[0]!)
        },
        signingHostname: 'localhost',
        signingPort: emu.port,
      },
    })
    try {
      await pool.query('select 1')
      broken = true
      getTokenProvider(pool)!.invalidate()
      const before = calls
      for (let i = 0; i < 20; i++)
        expect((await pool.query('select $1::int as i', [i])).rows).toEqual([{ i }])
      // The first query's background read finds the source down; later ones do not ask again
      // (pause of 5 s; 20 loopback queries take a few ms, so at most one more read fits).
      expect(calls - before).toBeGreaterThanOrEqual(1)
      expect(calls - before).toBeLessThanOrEqual(2)
    } finally {
      await pool.end()
    }
  })

  test('control: with working credentials a new connection is opened and logs in', async () => {
    const { pool } = openPool(2)
    try {
      const connections = relay.connections()
      const held = await pool.connect()
      try {
        expect((await pool.query('select 6 as six')).rows).toEqual([{ six: 6 }])
      } finally {
        held.release()
      }
      expect(relay.connections() - connections).toBe(2)
    } finally {
      await pool.end()
    }
  })
})
