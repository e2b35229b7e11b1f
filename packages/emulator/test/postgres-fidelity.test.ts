import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../src/index.js'
import { upstreamDatabase } from '../src/postgres/postgres-front.js'
import { clientConfig, connectError, PG_URL, requirePostgres, signToken } from './fixtures/pg-env.js'

const pgReachable = await requirePostgres(PG_URL)

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
