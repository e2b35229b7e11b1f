import { isRdsIamError } from '@rds-iam/core'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Client, Pool } from '../src/index.js'

// Issue 8, item 10: RDS's pg_hba.conf (`hostssl … +rds_iam … pam`) refuses a plain-TCP login
// with SQLSTATE 28000 "… no encryption". No token can fix that: no retry, a typed
// RDS_IAM_INSECURE_TRANSPORT whose hint is about TLS, not the IAM checklist.

describe('pg: the server refuses a connection without TLS', () => {
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'postgres', upstream: TEST_URLS.postgres })
  })
  afterAll(() => emu?.stop())

  let n = 0
  const settings = () => ({
    host: 'localhost',
    port: emu.port,
    user: `tls_refusal_${process.pid}_${n++}`,
    database: 'test',
    ssl: false as const,
    iam: { region: emu.region, credentials: emu.credentials[0]!, insecure: true },
  })

  const entryPoints: [string, () => Promise<unknown>][] = [
    [
      'Pool.query',
      async () => {
        const pool = new Pool({ ...settings(), max: 2 })
        try {
          return await pool.query('select 1')
        } finally {
          await pool.end()
        }
      },
    ],
    [
      'Client.connect',
      async () => {
        const client = new Client(settings())
        await client.connect()
        return client.end()
      },
    ],
  ]

  test.each(entryPoints)(
    '%s → one attempt, RDS_IAM_INSECURE_TRANSPORT with a TLS hint',
    async (_name, run) => {
      const before = emu.stats()
      const err = await run().then(
        () => new Error('connected without TLS'),
        (e: unknown) => e,
      )
      expect(isRdsIamError(err)).toBe(true)
      const e = err as {
        code: string
        hint: string
        message: string
        cause?: { code?: string; message?: string }
      }
      expect(e.code).toBe('RDS_IAM_INSECURE_TRANSPORT')
      expect(e.hint).toMatch(/TLS/)
      expect(e.hint).not.toMatch(/AWSAuthenticationPlugin|rds-db:connect/)
      expect(e.cause?.code).toBe('28000')
      expect(e.cause?.message).toContain('no encryption')
      const after = emu.stats()
      // Exactly one refused plain-TCP login: not retried.
      expect(after.protocolErrors - before.protocolErrors).toBe(1)
      expect(after.accepted).toBe(before.accepted)
    },
  )
})
