import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../src/index.js'
import { upstreamDatabase } from '../src/postgres/postgres-front.js'
import { clientConfig, connectError, PG_URL, requirePostgres, signToken } from './fixtures/pg-env.js'
import { collectUntilClose, pgRawUntilPassword } from './fixtures/raw-clients.js'

const pgReachable = await requirePostgres(PG_URL)

/** A 'p' message with `body` exactly as given (no NUL appended), which drivers cannot send. */
function rawPasswordMessage(body: Buffer): Buffer {
  const head = Buffer.alloc(5)
  head[0] = 0x70
  head.writeUInt32BE(body.length + 4, 1)
  return Buffer.concat([head, body])
}

/** Severity, SQLSTATE and message of the first ErrorResponse in `received`. */
function errorFields(received: Buffer): Record<string, string> {
  const start = received.indexOf(0x45)
  expect(start).toBeGreaterThanOrEqual(0)
  const fields: Record<string, string> = {}
  for (let at = start + 5; received[at] !== 0; ) {
    const end = received.indexOf(0, at + 1)
    fields[String.fromCharCode(received[at]!)] = received.toString('utf8', at + 1, end)
    at = end + 1
  }
  return fields
}

describe('upstreamDatabase', () => {
  it("uses the URL's database when the client sent its user name (the libpq/pg default)", () => {
    expect(upstreamDatabase('app', 'app', 'test')).toBe('test')
    expect(upstreamDatabase('other', 'app', 'test')).toBe('other')
    expect(upstreamDatabase('app', 'app', undefined)).toBe('app')
  })
})

describe.skipIf(!pgReachable)('postgres front fidelity (local PostgreSQL upstream)', () => {
  let emu: Emulator
  const logs: string[] = []
  beforeAll(async () => {
    // The URL names user and database: every IAM user runs as postgres, by default in `test`.
    const url = new URL(PG_URL)
    url.username = url.username || 'postgres'
    url.pathname = '/test'
    emu = await startEmulator({ engine: 'postgres', upstream: url.toString(), log: (l) => logs.push(l) })
  })
  afterAll(async () => {
    await emu?.stop()
  })

  it('answers a password message over 10 KB with FATAL 08P01 "invalid message length"', async () => {
    const err = await connectError(clientConfig(emu, 'app', 'x'.repeat(11_000)))
    expect(err).toMatchObject({ code: '08P01', severity: 'FATAL', message: 'invalid message length' })
    expect(logs.at(-1)).toMatch(/^protocol error: password message too long/)
  })

  // PostgreSQL's recv_password_packet texts; before, all three got "expected password response,
  // got message type 112", which named the wrong problem.
  it.each([
    ['an empty password', Buffer.from([0]), '28P01', 'empty password returned by client'],
    ['no NUL terminator', Buffer.from('abc'), '08P01', 'invalid password packet size'],
    ['an embedded NUL', Buffer.from('abc\0def\0'), '08P01', 'invalid password packet size'],
    ['an empty body', Buffer.alloc(0), '08P01', 'invalid password packet size'],
  ])('answers a password message with %s as PostgreSQL does', async (_case, body, code, message) => {
    const before = emu.stats()
    const tls = await pgRawUntilPassword(emu, { user: 'app', database: 'test' })
    const received = collectUntilClose(tls)
    tls.write(rawPasswordMessage(body))
    expect(errorFields(await received)).toMatchObject({
      S: 'FATAL',
      C: code,
      M: message,
      R: 'recv_password_packet',
    })
    expect(emu.stats().protocolErrors).toBe(before.protocolErrors + 1)
    expect(emu.stats().rejected).toEqual(before.rejected)
  })

  it("opens the upstream URL's database when the client names none", async () => {
    const { database: _omitted, ...config } = clientConfig(emu, 'app', await signToken(emu, 'app'))
    const client = new pg.Client(config)
    await client.connect()
    try {
      const { rows } = await client.query('select current_database() as db, current_user as u')
      expect(rows).toEqual([{ db: 'test', u: 'postgres' }])
    } finally {
      await client.end()
    }
  })

  it('keeps a database the client names explicitly', async () => {
    const client = new pg.Client(clientConfig(emu, 'app', await signToken(emu, 'app'), 'postgres'))
    await client.connect()
    try {
      expect((await client.query('select current_database() as db')).rows).toEqual([{ db: 'postgres' }])
    } finally {
      await client.end()
    }
  })
})
