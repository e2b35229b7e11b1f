import { createRequire } from 'node:module'
import { connect } from 'node:net'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createPool, RdsIamError, withIam } from '../src/index.js'
import { createPool as createPromisePool } from '../src/promise.js'

// Issue 8 item 2: the server closes the handshake (RDS MySQL: connect_timeout) before a slow
// credential source settles. The late rejection used to become a second 'error' event on the
// PoolConnection, which mysql2 listens to only once: the process crashed. Nothing may crash; the
// caller gets a typed error.
const require = createRequire(import.meta.url)
const VERSIONS: [string, typeof import('mysql2')][] = [
  ['mysql2 3.9.0', require('mysql2')],
  ['mysql2 latest', require('mysql2-latest')],
]

/** A credential source that answers only when the test says so. */
function heldCredentials() {
  let markAsked!: () => void
  const asked = new Promise<void>((resolve) => {
    markAsked = resolve
  })
  let reject: (err: Error) => void = () => {}
  const provider = () => {
    markAsked()
    return new Promise<never>((_, fail) => {
      reject = fail
    })
  }
  return { provider, asked, fail: () => reject(new Error('the SSO session could not be refreshed')) }
}

/**
 * Resolves once the emulator hung up on a probe connection that never logs in. Opened after the
 * pool was asked for a connection, so any socket that pool opened has been hung up on by then too.
 */
function serverHangsUpOnProbe(port: number): Promise<void> {
  return new Promise((resolve) => {
    // Reads (and drops) the greeting, or the hang-up would never be noticed.
    connect(port, '127.0.0.1')
      .on('error', () => {})
      .once('close', () => resolve())
      .resume()
  })
}

// Lets every callback and event queued by a late settlement run (a crash would surface here).
async function drain(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
}

describe.each(VERSIONS)('%s: server closes the handshake before credentials settle', (_label, mysql2) => {
  let emu: Emulator
  beforeAll(async () => {
    // Ends any connection that has not sent its token shortly after connecting.
    emu = await startEmulator({ engine: 'mysql', upstream: TEST_URLS.mysql, handshakeTimeoutMs: 150 })
  })
  afterAll(() => emu?.stop())

  let n = 0
  const base = (credentials: () => Promise<never>) => ({
    host: 'localhost',
    port: emu.port,
    user: `close_user_${n++}`,
    database: 'test',
    ssl: { ca: emu.ca },
    iam: { region: emu.region, credentials, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 } },
  })

  test('createPool: the caller gets RDS_IAM_CREDENTIALS and no socket was opened', async () => {
    const held = heldCredentials()
    const before = emu.stats().protocolErrors
    const pool = createPool({ ...base(held.provider), connectionLimit: 2 }, { mysql2 })
    try {
      const result = new Promise((resolve) => pool.query('select 1', (err) => resolve(err)))
      await held.asked
      await serverHangsUpOnProbe(emu.port)
      held.fail()
      const error = await result
      expect(error).toBeInstanceOf(RdsIamError)
      expect((error as RdsIamError).code).toBe('RDS_IAM_CREDENTIALS')
      await drain()
      // The token is prepared before the socket opens: the server saw only the probe.
      expect(emu.stats().protocolErrors - before).toBe(1)
    } finally {
      await new Promise<void>((resolve) => pool.end(() => resolve()))
    }
  })

  test('promise createPool: the same, typed', async () => {
    const held = heldCredentials()
    const pool = createPromisePool({ ...base(held.provider), connectionLimit: 2 }, { mysql2 })
    try {
      const result = pool.query('select 1').then(
        () => undefined,
        (err: unknown) => err,
      )
      await held.asked
      await serverHangsUpOnProbe(emu.port)
      held.fail()
      expect(await result).toMatchObject({ code: 'RDS_IAM_CREDENTIALS' })
      await drain()
    } finally {
      await pool.end()
    }
  })

  test('your own mysql2 pool with your own `stream`: the token is awaited in the handshake, the server hangs up, nothing crashes', async () => {
    const held = heldCredentials()
    let closed!: () => void
    const serverClosed = new Promise<void>((resolve) => {
      closed = resolve
    })
    // With a stream of your own (e.g. an SSH channel) the token cannot be fetched before it opens.
    const pool = mysql2.createPool(
      withIam({
        ...base(held.provider),
        connectionLimit: 2,
        stream: () => connect(emu.port, '127.0.0.1').once('close', () => closed()),
      }),
    )
    try {
      const result = new Promise((resolve) => pool.query('select 1', (err: unknown) => resolve(err)))
      await held.asked
      await serverClosed
      const error = await result
      // The hang-up is reported as what it is: the token was not ready in time.
      expect(error).toBeInstanceOf(RdsIamError)
      expect((error as RdsIamError).code).toBe('RDS_IAM_CREDENTIALS')
      expect((error as RdsIamError).message).toContain('closed the connection before the IAM token was ready')
      held.fail()
      await drain()
    } finally {
      await new Promise<void>((resolve) => pool.end(() => resolve()))
    }
  })
})
