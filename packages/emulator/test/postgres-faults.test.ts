import { connect } from 'node:net'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { type Emulator, startEmulator } from '../src/index.js'
import {
  clientConfig,
  connectError,
  connectIam,
  PG_URL,
  requirePostgres,
  signToken,
} from './fixtures/pg-env.js'

const pgReachable = await requirePostgres(PG_URL)
const PAM = ['28000', 'PAM authentication failed for user "app_user"']

describe.skipIf(!pgReachable)('postgres front faults (local PostgreSQL upstream)', () => {
  let emu: Emulator
  const logs: string[] = []
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'postgres', upstream: PG_URL, log: (l) => logs.push(l) })
  })
  afterEach(() => emu.faults.reset())
  afterAll(async () => {
    await emu?.stop()
  })

  it('rejectNext(n) refuses exactly the next n logins, then valid tokens work again', async () => {
    const before = emu.stats().rejected.InvalidToken
    emu.faults.rejectNext(2)
    for (let i = 0; i < 2; i++) {
      const err = await connectError(clientConfig(emu, 'app_user', await signToken(emu, 'app_user')))
      expect([err.code, err.message]).toEqual(PAM)
    }
    const client = await connectIam(emu, 'app_user')
    await client.end()
    expect(emu.stats().rejected.InvalidToken).toBe(before + 2)
  })

  it('maxTokenAge(s) expires tokens early; null restores the 900 s rule', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    let token: string
    try {
      vi.setSystemTime(Date.now() - 120_000)
      token = await signToken(emu, 'app_user')
    } finally {
      vi.useRealTimers()
    }
    const before = emu.stats().rejected.ExpiredToken
    emu.faults.maxTokenAge(60)
    const err = await connectError(clientConfig(emu, 'app_user', token))
    expect([err.code, err.message]).toEqual(PAM)
    expect(emu.stats().rejected.ExpiredToken).toBe(before + 1)
    expect(logs.at(-1)).toContain('ExpiredToken')

    emu.faults.maxTokenAge(null)
    const client = new pg.Client(clientConfig(emu, 'app_user', token))
    await client.connect()
    await client.end()
  })

  it('rejects a token older than 900 s as ExpiredToken, while an open session outlives its token', async () => {
    const open = await connectIam(emu, 'app_user')
    vi.useFakeTimers({ toFake: ['Date'] })
    let old: string
    try {
      vi.setSystemTime(Date.now() - 16 * 60_000)
      old = await signToken(emu, 'app_user')
    } finally {
      vi.useRealTimers()
    }
    const before = emu.stats().rejected.ExpiredToken
    const err = await connectError(clientConfig(emu, 'app_user', old))
    expect([err.code, err.message]).toEqual(PAM)
    expect(emu.stats().rejected.ExpiredToken).toBe(before + 1)
    expect((await open.query('select 2 as two')).rows).toEqual([{ two: 2 }])
    await open.end()
  })

  it('latency(ms) delays authentication: a client with a shorter connect timeout gives up', async () => {
    emu.faults.latency(3_000)
    const err = await connectError({
      ...clientConfig(emu, 'app_user', await signToken(emu, 'app_user')),
      connectionTimeoutMillis: 300,
    })
    expect(err.message).toMatch(/timeout/i)
    emu.faults.latency(50)
    const client = await connectIam(emu, 'app_user')
    expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }])
    await client.end()
  })

  it('throttle(n) fails logins above n per second with ThrottlingException, as a bad token', async () => {
    const before = emu.stats()
    emu.faults.throttle(1)
    const tokens = await Promise.all(Array.from({ length: 4 }, () => signToken(emu, 'app_user')))
    const outcomes = await Promise.all(
      tokens.map(async (token) => {
        const client = new pg.Client(clientConfig(emu, 'app_user', token))
        client.on('error', () => {})
        try {
          await client.connect()
          await client.end()
          return 'ok'
        } catch (err) {
          const e = err as { code?: string; message: string }
          return `${e.code} ${e.message}`
        }
      }),
    )
    const throttled = outcomes.filter((o) => o !== 'ok')
    expect(throttled.length).toBeGreaterThanOrEqual(1)
    expect(new Set(throttled)).toEqual(new Set([PAM.join(' ')]))
    const after = emu.stats()
    expect(after.rejected.ThrottlingException - before.rejected.ThrottlingException).toBe(throttled.length)
    expect(after.accepted - before.accepted).toBe(4 - throttled.length)
  })

  it('dropConnections() kills open sessions like a failover; new connections work', async () => {
    const victims = await Promise.all([connectIam(emu, 'app_user'), connectIam(emu, 'app_user')])
    const errors = victims.map((c) => new Promise<Error>((resolve) => c.once('error', resolve)))
    expect(emu.stats().open).toBeGreaterThanOrEqual(2)
    emu.faults.dropConnections()
    for (const [i, c] of victims.entries()) {
      await expect(c.query('select 1')).rejects.toThrow()
      expect(await errors[i]).toBeInstanceOf(Error)
    }
    await vi.waitFor(() => expect(emu.stats().open).toBe(0))
    const fresh = await connectIam(emu, 'app_user')
    expect((await fresh.query('select 3 as three')).rows).toEqual([{ three: 3 }])
    await fresh.end()
  })

  it('forwards a CancelRequest (plain TCP, as libpq sends it) to the right upstream backend', async () => {
    const client = await connectIam(emu, 'app_user')
    const appName = `emu_cancel_${Math.random().toString(36).slice(2)}`
    await client.query(`set application_name = '${appName}'`)
    const sleeping = client.query('select pg_sleep(10)')
    const outcome = sleeping.then(
      () => undefined,
      (e: { code?: string; message: string }) => e,
    )
    await waitForActiveQuery(appName)

    const { processID, secretKey } = client as unknown as { processID: number; secretKey: number }
    const packet = Buffer.alloc(16)
    packet.writeInt32BE(16, 0)
    packet.writeInt32BE(80877102, 4)
    packet.writeInt32BE(processID, 8)
    packet.writeInt32BE(secretKey, 12)
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: emu.port }, () => s.end(packet))
      s.on('error', reject)
      s.on('close', () => resolve())
    })
    const err = await outcome
    expect(err?.code).toBe('57014')
    expect(err?.message).toBe('canceling statement due to user request')
    expect((await client.query('select 4 as four')).rows).toEqual([{ four: 4 }])
    await client.end()
  })

  it('ignores a CancelRequest with an unknown key (PostgreSQL never answers one)', async () => {
    const client = await connectIam(emu, 'app_user')
    const packet = Buffer.alloc(16)
    packet.writeInt32BE(16, 0)
    packet.writeInt32BE(80877102, 4)
    packet.writeInt32BE(12345, 8)
    packet.writeInt32BE(67890, 12)
    await new Promise<void>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: emu.port }, () => s.end(packet))
      s.on('error', () => {})
      s.on('close', () => resolve())
    })
    expect((await client.query('select 5 as five')).rows).toEqual([{ five: 5 }])
    await client.end()
  })
})

/** Polls the upstream directly until the session shows an active query (bounded). */
async function waitForActiveQuery(applicationName: string): Promise<void> {
  const direct = new pg.Client({ connectionString: PG_URL })
  await direct.connect()
  try {
    await vi.waitFor(
      async () => {
        const { rows } = await direct.query(
          `select count(*)::int as n from pg_stat_activity where application_name = $1 and state = 'active'`,
          [applicationName],
        )
        expect(rows[0].n).toBe(1)
      },
      { timeout: 5_000, interval: 50 },
    )
  } finally {
    await direct.end()
  }
}
