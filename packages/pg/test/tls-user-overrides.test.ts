import type { PeerCertificate } from 'node:tls'
import { isRdsIamError } from '@rds-iam/core'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Client, Pool } from '../src/index.js'

// Security review, HIGH: a user's own `ssl.checkServerIdentity` or `ssl.servername` used to replace
// the host-name check, so a server whose certificate chains to a trusted CA but names another host
// received the token. The certificate must always name the host the token is signed for
// (`iam.signingHostname ?? host`); a user's check may only add to that, and a `servername` naming
// another host is refused before anything connects.

const RDS_NAME = 'db.example.us-east-1.rds.amazonaws.com'

describe('pg: a user-supplied checkServerIdentity or servername never replaces the host-name check', () => {
  // The real endpoint, reached through a tunnel: its certificate also names RDS_NAME, as RDS's does.
  let rds: Emulator
  // The attacker at the tunnel's end: a real TLS server in front of real PostgreSQL whose certificate
  // chains to a CA the client trusts but names only localhost / 127.0.0.1 / ::1, never RDS_NAME.
  let attacker: Emulator
  beforeAll(async () => {
    rds = await startEmulator({
      engine: 'postgres',
      upstream: TEST_URLS.postgres,
      endpoint: `${RDS_NAME}:5432`,
    })
    attacker = await startEmulator({
      engine: 'postgres',
      upstream: TEST_URLS.postgres,
      credentials: rds.credentials,
    })
  })
  afterAll(async () => {
    await rds?.stop()
    await attacker?.stop()
  })

  let n = 0
  const settings = (emu: Emulator, ssl: Record<string, unknown>) => ({
    host: '127.0.0.1',
    port: emu.port,
    user: `tls_override_${process.pid}_${n++}`,
    database: 'test',
    ssl: { ca: emu.ca, ...ssl },
    iam: {
      region: rds.region,
      credentials: rds.credentials[0]!,
      signingHostname: RDS_NAME,
      signingPort: 5432,
      retry: { maxAttempts: 1 },
    },
  })
  type Settings = ReturnType<typeof settings>

  const entryPoints: [string, (s: Settings) => Promise<unknown>][] = [
    [
      'Pool.query',
      async (s) => {
        const pool = new Pool({ ...s, max: 1 })
        try {
          return await pool.query('select 1 as one')
        } finally {
          await pool.end()
        }
      },
    ],
    [
      'Client.connect',
      async (s) => {
        const client = new Client(s)
        await client.connect()
        try {
          return await client.query('select 1 as one')
        } finally {
          await client.end()
        }
      },
    ],
  ]

  /** Runs `open` and returns what it failed with; reaching the server's SQL is a failure of the test. */
  const failure = (open: () => Promise<unknown>) =>
    open().then(
      () => new Error('connected and ran a query'),
      (e: unknown) => e,
    )

  /** Logins the emulator judged, i.e. tokens it received. */
  const received = (emu: Emulator) => {
    const s = emu.stats()
    return s.accepted + Object.values(s.rejected).reduce((a, b) => a + b, 0)
  }

  test.each(entryPoints)(
    '%s: a no-op checkServerIdentity does not let the token reach a certificate for another name',
    async (_name, open) => {
      const before = received(attacker)
      const err = await failure(() => open(settings(attacker, { checkServerIdentity: () => undefined })))
      expect(err).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' })
      expect(String((err as Error).message)).toContain(RDS_NAME)
      expect(received(attacker)).toBe(before)
    },
  )

  test.each(entryPoints)(
    '%s: a servername that is not the signing host is refused (RDS_IAM_INVALID_OPTIONS) and nothing connects',
    async (_name, open) => {
      const before = received(attacker)
      const open0 = attacker.stats().protocolErrors
      // 'localhost' is on the attacker's certificate: with the old rule it became the name checked.
      const err = await failure(() => open(settings(attacker, { servername: 'localhost' })))
      expect(isRdsIamError(err)).toBe(true)
      expect(err).toMatchObject({ code: 'RDS_IAM_INVALID_OPTIONS' })
      expect((err as { hint: string }).hint).toContain('iam.signingHostname')
      expect(String((err as Error).message)).not.toMatch(/X-Amz-Signature/)
      expect(received(attacker)).toBe(before)
      // Refused while the config is built: not even a TLS handshake reached the attacker.
      expect(attacker.stats().protocolErrors).toBe(open0)
    },
  )

  test.each(entryPoints)(
    "%s: the user's checkServerIdentity runs in addition to the name check, and its refusal holds",
    async (_name, open) => {
      const seen: string[] = []
      const mine = (_host: string, cert: PeerCertificate) => {
        seen.push(String(cert.subjectaltname))
        return undefined
      }
      // The right server: both checks pass, the query runs.
      await expect(open(settings(rds, { checkServerIdentity: mine }))).resolves.toMatchObject({
        rows: [{ one: 1 }],
      })
      expect(seen.length).toBeGreaterThan(0)
      expect(seen[0]).toContain(RDS_NAME)

      // The right server, but the user's own check says no: the token is not sent.
      const before = received(rds)
      const pin = new Error('certificate pin mismatch')
      const err = await failure(() => open(settings(rds, { checkServerIdentity: () => pin })))
      expect(err).toBe(pin)
      expect(received(rds)).toBe(before)
    },
  )

  test.each(entryPoints)(
    '%s: a servername equal to the signing host (any case, trailing dot) is accepted',
    async (_name, open) => {
      await expect(open(settings(rds, { servername: `${RDS_NAME.toUpperCase()}.` }))).resolves.toMatchObject({
        rows: [{ one: 1 }],
      })
    },
  )
})
