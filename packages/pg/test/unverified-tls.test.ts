import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Client, Pool, withIam } from '../src/index.js'
import { type CountingRelay, startCountingRelay } from './counting-relay.js'

// Issue 8, item 5: a token is a credential for 15 minutes. TLS that does not verify the server
// (`rejectUnauthorized: false`, `sslmode=no-verify`) hands it to whoever answers, so it is
// refused like no TLS, with RDS_IAM_INSECURE_TRANSPORT, unless iam.insecure. sslmode=require
// keeps verifying against the RDS CA bundle.

describe('pg: unverified TLS', () => {
  // Plays the man in the middle: its CA is not one the client trusts.
  let mitm: Emulator
  let relay: CountingRelay
  beforeAll(async () => {
    mitm = await startEmulator({ engine: 'postgres', upstream: TEST_URLS.postgres })
    relay = await startCountingRelay(mitm.port)
  })
  afterAll(async () => {
    await relay?.close()
    await mitm?.stop()
  })

  let n = 0
  const base = () => ({
    host: 'localhost',
    port: relay.port,
    user: `unverified_${process.pid}_${n++}`,
    database: 'test',
    iam: { region: mitm.region, credentials: mitm.credentials[0]!, signingPort: mitm.port },
  })

  const refusals: [string, () => unknown][] = [
    [
      'Pool + ssl.rejectUnauthorized: false',
      () => new Pool({ ...base(), ssl: { rejectUnauthorized: false } }),
    ],
    [
      'Client + ssl.rejectUnauthorized: false',
      () => new Client({ ...base(), ssl: { rejectUnauthorized: false } }),
    ],
    [
      'withIam + ssl.rejectUnauthorized: false',
      () => new pg.Pool(withIam({ ...base(), ssl: { rejectUnauthorized: false } })),
    ],
    [
      'Pool + connectionString sslmode=no-verify',
      () => {
        const { host, port, user, database, iam } = base()
        return new Pool({
          connectionString: `postgres://${user}@${host}:${port}/${database}?sslmode=no-verify`,
          iam,
        })
      },
    ],
  ]

  test.each(refusals)(
    '%s → RDS_IAM_INSECURE_TRANSPORT naming the bundle, before any connection',
    (_name, make) => {
      const before = relay.connections()
      let err: unknown
      try {
        make()
      } catch (e) {
        err = e
      }
      expect(err).toMatchObject({ code: 'RDS_IAM_INSECURE_TRANSPORT' })
      const { hint } = err as { hint: string }
      expect(hint).toContain('RDS CA bundle')
      expect(hint).toContain('insecure')
      expect(relay.connections()).toBe(before)
    },
  )

  test('iam.insecure allows it (local testing): the connection goes through', async () => {
    const s = base()
    const pool = new Pool({
      ...s,
      ssl: { rejectUnauthorized: false },
      iam: { ...s.iam, insecure: true },
      max: 1,
    })
    try {
      expect((await pool.query('select 1 as one')).rows).toEqual([{ one: 1 }])
    } finally {
      await pool.end()
    }
  })

  test('sslmode=require still verifies against the RDS bundle: a server outside it never gets the token', async () => {
    const { host, port, user, database, iam } = base()
    const before = mitm.stats()
    const connectionsBefore = relay.connections()
    const pool = new Pool({
      connectionString: `postgres://${user}@${host}:${port}/${database}?sslmode=require`,
      iam,
    })
    try {
      const err = await pool.query('select 1').then(
        () => new Error('connected to a server outside the RDS bundle'),
        (e: unknown) => e,
      )
      expect((err as { code?: string }).code).toMatch(/CERT|SIGNATURE|SELF_SIGNED/)
    } finally {
      await pool.end()
    }
    expect(relay.connections() - connectionsBefore).toBe(1) // it did try, and TLS stopped it
    const after = mitm.stats()
    expect(after.accepted).toBe(before.accepted)
    expect(after.rejected).toEqual(before.rejected)
  })
})
