import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type Emulator, startEmulator } from '../src/index.js'
import {
  clientConfig,
  connectError,
  connectIam,
  PG_URL,
  requirePostgres,
  signToken,
  unique,
} from './fixtures/pg-env.js'

const pgReachable = await requirePostgres(PG_URL)

const upstreams = [
  { name: 'local PostgreSQL', upstream: PG_URL as string | undefined, available: pgReachable },
  { name: 'embedded PGlite', upstream: undefined, available: true },
]

describe.each(upstreams)('postgres front → $name', ({ upstream, available }) => {
  let emu: Emulator
  const logs: string[] = []

  beforeAll(async () => {
    if (!available) return
    emu = await startEmulator({ engine: 'postgres', upstream, log: (line) => logs.push(line) })
  }, 60_000)
  afterAll(async () => {
    await emu?.stop()
  })

  it.skipIf(!available)('accepts a valid token over verify-full TLS and relays queries', async () => {
    const before = emu.stats().accepted
    const client = await connectIam(emu, 'app_user')
    try {
      const table = `emu_front_${unique()}`
      await client.query(`create table ${table} (id int primary key, note text)`)
      try {
        await client.query(`insert into ${table} values ($1, $2), ($3, $4)`, [1, 'a', 2, 'b'])
        const { rows } = await client.query(`select count(*)::int as n, max(note) as last from ${table}`)
        expect(rows).toEqual([{ n: 2, last: 'b' }])
      } finally {
        await client.query(`drop table ${table}`)
      }
      expect(emu.stats().accepted).toBe(before + 1)
      expect(emu.stats().open).toBeGreaterThanOrEqual(1)
    } finally {
      await client.end()
    }
  })

  it.skipIf(!available)(
    'verifies the certificate for 127.0.0.1 too, and fails against another CA',
    async () => {
      const token = await signToken(emu, 'app_user')
      const ok = new pg.Client({ ...clientConfig(emu, 'app_user', token), host: '127.0.0.1' })
      await ok.connect()
      expect((await ok.query('select 1 as one')).rows).toEqual([{ one: 1 }])
      await ok.end()

      const other = await startEmulator({ engine: 'postgres', upstream: 'postgres://127.0.0.1:1/none' })
      try {
        const err = await connectError({ ...clientConfig(emu, 'app_user', token), ssl: { ca: other.ca } })
        expect(err.message).toMatch(/self[- ]signed certificate|unable to verify|certificate/i)
      } finally {
        await other.stop()
      }
    },
  )

  it.skipIf(!available)(
    'accepts direct TLS negotiation (PostgreSQL 17 sslnegotiation=direct, ALPN)',
    async () => {
      const token = await signToken(emu, 'app_user')
      const client = new pg.Client({
        ...clientConfig(emu, 'app_user', token),
        sslnegotiation: 'direct',
      } as pg.ClientConfig)
      await client.connect()
      expect((await client.query('select 8 as eight')).rows).toEqual([{ eight: 8 }])
      await client.end()
    },
  )

  it.skipIf(!available)(
    'answers a bad token exactly like RDS: FATAL 28000 PAM authentication failed',
    async () => {
      const before = emu.stats().rejected.InvalidToken
      const token = await signToken(emu, 'app_user')
      const forged = token.replace(
        /X-Amz-Signature=([0-9a-f])/,
        (_m, c: string) => `X-Amz-Signature=${c === 'a' ? 'b' : 'a'}`,
      )
      expect(forged).not.toBe(token)
      const err = await connectError(clientConfig(emu, 'app_user', forged))
      expect(err).toBeInstanceOf(Error)
      expect({ code: err.code, severity: err.severity, message: err.message }).toEqual({
        code: '28000',
        severity: 'FATAL',
        message: 'PAM authentication failed for user "app_user"',
      })
      expect(emu.stats().rejected.InvalidToken).toBe(before + 1)
      expect(logs.some((l) => l.includes('InvalidToken') && l.includes('signature'))).toBe(true)
      expect(logs.join('\n')).not.toContain(forged.slice(forged.indexOf('X-Amz-Signature')))
    },
  )

  it.skipIf(!available)(
    'rejects a token signed for another user with the login user in the message',
    async () => {
      const token = await signToken(emu, 'someone_else')
      const err = await connectError(clientConfig(emu, 'app_user', token))
      expect([err.code, err.message]).toEqual(['28000', 'PAM authentication failed for user "app_user"'])
    },
  )

  it.skipIf(!available)('rejects a token signed for the wrong port or region', async () => {
    for (const overrides of [{ port: emu.port + 1 }, { region: 'eu-west-3' }]) {
      const token = await signToken(emu, 'app_user', overrides)
      const err = await connectError(clientConfig(emu, 'app_user', token))
      expect([err.code, err.message]).toEqual(['28000', 'PAM authentication failed for user "app_user"'])
    }
  })

  it.skipIf(!available)(
    'refuses a client without TLS before it sends the token (pg_hba, 28000)',
    async () => {
      const before = emu.stats()
      const err = await connectError({
        ...clientConfig(emu, 'app_user', 'never-sent'),
        host: '127.0.0.1',
        ssl: false,
      })
      expect({ code: err.code, severity: err.severity, message: err.message }).toEqual({
        code: '28000',
        severity: 'FATAL',
        message:
          'pg_hba.conf rejects connection for host "127.0.0.1", user "app_user", database "test", no encryption',
      })
      const after = emu.stats()
      expect(after.protocolErrors).toBe(before.protocolErrors + 1)
      expect(after.accepted).toBe(before.accepted)
    },
  )

  it.skipIf(!available)('serves 20 concurrent clients and counts them', async () => {
    const before = emu.stats().accepted
    const clients = await Promise.all(Array.from({ length: 20 }, () => connectIam(emu, 'app_user')))
    try {
      expect(emu.stats().open).toBeGreaterThanOrEqual(20)
      const results = await Promise.all(clients.map((c, i) => c.query('select $1::int as i', [i])))
      expect(results.map((r) => r.rows[0].i)).toEqual(Array.from({ length: 20 }, (_, i) => i))
      expect(new Set(clients.map((c) => (c as unknown as { processID: number }).processID)).size).toBe(20)
    } finally {
      await Promise.all(clients.map((c) => c.end()))
    }
    expect(emu.stats().accepted).toBe(before + 20)
    await vi.waitFor(() => expect(emu.stats().open).toBe(0))
  })
})

describe.skipIf(!pgReachable)('postgres front: upstream user mapping (local PostgreSQL)', () => {
  let emu: Emulator
  beforeAll(async () => {
    const url = new URL(PG_URL)
    url.username = ''
    url.password = ''
    emu = await startEmulator({ engine: 'postgres', upstream: url.toString() })
  })
  afterAll(async () => {
    await emu?.stop()
  })

  it('logs in upstream as the IAM user when the URL names none', async () => {
    const client = await connectIam(emu, new URL(PG_URL).username || 'postgres')
    try {
      const { rows } = await client.query('select current_user as u')
      expect(rows[0].u).toBe(new URL(PG_URL).username || 'postgres')
    } finally {
      await client.end()
    }
  })

  it('forwards the upstream refusal when the user does not exist there', async () => {
    const user = `missing_${unique()}`
    const err = await connectError(clientConfig(emu, user, await signToken(emu, user)))
    expect(err.code).toBe('28000')
    expect(err.message).toBe(`role "${user}" does not exist`)
  })
})
