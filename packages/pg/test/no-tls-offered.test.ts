import { isRdsIamError } from '@rds-iam/core'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Client, getTokenProvider, Pool } from '../src/index.js'
import { type CountingRelay, startCountingRelay } from './counting-relay.js'

// Review finding: a server that offers no TLS at all (answers pg's SSLRequest with 'N') gave pg's
// untyped "The server does not support SSL connections". No RDS endpoint answers that, so it is a
// wrong endpoint or something in between: a typed RDS_IAM_INSECURE_TRANSPORT that says so, the
// driver error as cause, one attempt, and nothing but the SSLRequest ever sent (no token).

// The 8-byte SSLRequest: length 8, code 80877103.
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])

describe('pg: a server that offers no TLS', () => {
  // The local PostgreSQL runs without TLS: a real server that answers 'N'.
  const plain = new URL(TEST_URLS.postgres)
  // Only for credentials and a region to sign with; the connection never reaches it.
  let emu: Emulator
  let relay: CountingRelay
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'postgres', upstream: TEST_URLS.postgres })
  })
  afterAll(() => emu?.stop())

  let n = 0
  const settings = () => ({
    host: '127.0.0.1',
    port: relay.port,
    user: `no_tls_${process.pid}_${n++}`,
    database: 'test',
    iam: { region: emu.region, credentials: emu.credentials[0]!, signingHostname: 'localhost' },
  })

  const entryPoints: [string, () => Promise<{ run: Promise<unknown>; target: object }>][] = [
    [
      'Pool.query',
      async () => {
        const pool = new Pool({ ...settings(), max: 2 })
        const run = pool.query('select 1').finally(() => pool.end())
        return { run, target: pool }
      },
    ],
    [
      'Client.connect',
      async () => {
        const client = new Client(settings())
        return { run: client.connect(), target: client }
      },
    ],
  ]

  test.each(entryPoints)(
    '%s → RDS_IAM_INSECURE_TRANSPORT naming the likely cause; no token sent',
    async (_name, open) => {
      relay = await startCountingRelay(Number(plain.port || 5432), plain.hostname)
      try {
        const { run, target } = await open()
        const err = await run.then(
          () => new Error('connected'),
          (e: unknown) => e,
        )
        expect(isRdsIamError(err)).toBe(true)
        const e = err as { code: string; message: string; hint: string; cause?: unknown }
        expect(e.code).toBe('RDS_IAM_INSECURE_TRANSPORT')
        expect(e.message).toContain('does not offer TLS')
        expect(e.hint).toMatch(/RDS endpoint/)
        expect(e.hint).toMatch(/proxy/)
        expect(e.hint).toContain('ssl: false')
        expect(e.hint).toContain('insecure')
        expect(e.cause).toBeInstanceOf(Error)
        expect((e.cause as Error).message).toBe('The server does not support SSL connections')
        // One connection (not retried), and all it carried is the SSLRequest: no startup, no token.
        expect(relay.connections()).toBe(1)
        expect(relay.sent()).toEqual(SSL_REQUEST)
        const token = await getTokenProvider(target)!.getToken()
        expect(`${e.message} ${e.hint}`).not.toContain(token)
      } finally {
        await relay.close()
      }
    },
  )
})
