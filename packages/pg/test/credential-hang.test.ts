import { isRdsIamError } from '@rds-iam/core'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Client, Pool } from '../src/index.js'
import { type CountingRelay, startCountingRelay } from './counting-relay.js'

// Issue 8, item 3: the token is settled before pg opens a socket, so a credential source that
// never answers fails every caller with RDS_IAM_CREDENTIALS (after iam.credentialTimeoutMs)
// and no server ever holds a half-open login waiting for a password.

const neverAnswers = () => new Promise<never>(() => {})

describe('a credential provider that never answers', () => {
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
  const settings = () => ({
    // 127.0.0.1 through the relay; the certificate and the token name the emulator's endpoint.
    host: '127.0.0.1',
    port: relay.port,
    user: `hang_user_${process.pid}_${n++}`,
    database: 'test',
    ssl: { ca: emu.ca },
    iam: {
      region: emu.region,
      // A new function per test: its own credential source, so nothing is cached from before.
      credentials: () => neverAnswers(),
      signingHostname: 'localhost',
      signingPort: emu.port,
      credentialTimeoutMs: 200,
    },
  })

  test('20 concurrent Pool.query() on max 10: each fails with RDS_IAM_CREDENTIALS, no socket opened', async () => {
    const pool = new Pool({ ...settings(), max: 10 })
    const before = emu.stats()
    const connectionsBefore = relay.connections()
    try {
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => pool.query('select 1')))
      for (const r of results) {
        expect(r.status).toBe('rejected')
        const reason = (r as PromiseRejectedResult).reason
        expect(isRdsIamError(reason)).toBe(true)
        expect(reason.code).toBe('RDS_IAM_CREDENTIALS')
        expect(reason.message).toContain('200 ms')
      }
      expect(relay.connections() - connectionsBefore).toBe(0)
      expect(emu.stats()).toEqual(before)
    } finally {
      await pool.end()
    }
  })

  test('Pool.connect() fails the same way', async () => {
    const pool = new Pool({ ...settings(), max: 2 })
    const connectionsBefore = relay.connections()
    try {
      const err = await pool.connect().then(
        () => new Error('connected'),
        (e: unknown) => e,
      )
      expect(err).toMatchObject({ code: 'RDS_IAM_CREDENTIALS' })
      expect(relay.connections() - connectionsBefore).toBe(0)
    } finally {
      await pool.end()
    }
  })

  test('Client.connect() fails with RDS_IAM_CREDENTIALS before connecting; a query queued before connect() settles too', async () => {
    const client = new Client(settings())
    const before = emu.stats()
    const connectionsBefore = relay.connections()
    const queued = client.query('select 1').then(
      () => new Error('query ran'),
      (e: unknown) => e,
    )
    const err = await client.connect().then(
      () => new Error('connected'),
      (e: unknown) => e,
    )
    expect(err).toMatchObject({ code: 'RDS_IAM_CREDENTIALS' })
    expect(await queued).toMatchObject({ code: 'RDS_IAM_CREDENTIALS' })
    expect(relay.connections() - connectionsBefore).toBe(0)
    expect(emu.stats()).toEqual(before)
  })

  test('control: the same settings with working credentials connect through the relay', async () => {
    const s = settings()
    const pool = new Pool({ ...s, iam: { ...s.iam, credentials: emu.credentials[0]! }, max: 2 })
    const connectionsBefore = relay.connections()
    try {
      expect((await pool.query('select 1 as one')).rows).toEqual([{ one: 1 }])
      expect(relay.connections() - connectionsBefore).toBe(1)
    } finally {
      await pool.end()
    }
  })
})
