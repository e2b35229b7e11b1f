import mysql from 'mysql2/promise'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  eventually,
  iamOptions,
  loginFailure,
  type MysqlEmulator,
  requireMysql,
  signToken,
  startMysqlEmulator,
  uniqueTable,
  upstreamOptions,
} from './fixtures/mysql-env.js'

const available = await requireMysql()

const ACCESS_DENIED = /^Access denied for user '[^']+'@'(127\.0\.0\.1|::1)' \(using password: YES\)$/

describe.skipIf(!available)('mysql front: faults and load', () => {
  let emu: MysqlEmulator | undefined
  const cleanups: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    vi.useRealTimers()
    for (const c of cleanups.splice(0).reverse()) await c()
    await emu?.stop()
    emu = undefined
  })

  it('rejectNext(2): two logins fail like a bad token, the third succeeds', async () => {
    emu = await startMysqlEmulator()
    emu.faults.rejectNext(2)
    for (let i = 0; i < 2; i++) {
      const err = await loginFailure(mysql.createConnection(iamOptions(emu, 'retry_user')))
      expect(err).toMatchObject({
        errno: 1045,
        sqlState: '28000',
        message: expect.stringMatching(ACCESS_DENIED),
      })
    }
    const conn = await mysql.createConnection(iamOptions(emu, 'retry_user'))
    cleanups.push(() => conn.end())
    expect(emu.stats()).toMatchObject({ accepted: 1, rejected: { InvalidToken: 2 } })
  })

  it('maxTokenAge: an old token is refused as expired, then accepted once the cap is lifted', async () => {
    emu = await startMysqlEmulator()
    // Sign a token dated a minute ago: only Date is faked, so sockets and timers run normally.
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() - 60_000)
    const oldToken = await signToken(emu, 'aged_user')
    vi.useRealTimers()

    emu.faults.maxTokenAge(30)
    const err = await loginFailure(mysql.createConnection(iamOptions(emu, 'aged_user', () => oldToken)))
    expect(err).toMatchObject({ errno: 1045, message: expect.stringMatching(ACCESS_DENIED) })
    expect(emu.stats().rejected.ExpiredToken).toBe(1)

    emu.faults.maxTokenAge(null)
    const conn = await mysql.createConnection(iamOptions(emu, 'aged_user', () => oldToken))
    cleanups.push(() => conn.end())
    expect(emu.stats().accepted).toBe(1)
  })

  it('throttle(0) refuses every new login as throttled; throttle(null) lifts it', async () => {
    emu = await startMysqlEmulator()
    emu.faults.throttle(0)
    const err = await loginFailure(mysql.createConnection(iamOptions(emu, 'busy_user')))
    expect(err).toMatchObject({ errno: 1045, message: expect.stringMatching(ACCESS_DENIED) })
    expect(emu.stats().rejected.ThrottlingException).toBe(1)
    emu.faults.throttle(null)
    const conn = await mysql.createConnection(iamOptions(emu, 'busy_user'))
    cleanups.push(() => conn.end())
    expect(emu.stats().accepted).toBe(1)
  })

  it('latency: a slow IAM backend delays the login but it still succeeds', async () => {
    emu = await startMysqlEmulator()
    emu.faults.latency(200)
    const conn = await mysql.createConnection(iamOptions(emu, 'slow_user'))
    cleanups.push(() => conn.end())
    const [rows] = await conn.query('select 1 as one')
    expect(rows).toEqual([{ one: 1 }])
    emu.faults.reset()
    expect(emu.stats().accepted).toBe(1)
  })

  it('dropConnections: open sessions die, the pool reconnects with fresh tokens and loses no write', async () => {
    const e = await startMysqlEmulator()
    emu = e
    const table = uniqueTable('front_drop')
    const raw = await mysql.createConnection(upstreamOptions())
    await raw.query(`create table \`${table}\` (id int primary key)`)
    cleanups.push(async () => {
      await raw.query(`drop table if exists \`${table}\``)
      await raw.end()
    })
    let signed = 0
    const pool = mysql.createPool({
      ...iamOptions(e, 'pool_user', () => {
        signed++
        return signToken(e, 'pool_user')
      }),
      connectionLimit: 3,
    })
    cleanups.push(() => pool.end())
    await Promise.all([1, 2, 3].map((id) => pool.query(`insert into \`${table}\` values (${id})`)))
    const openBefore = e.stats().open
    expect(openBefore).toBeGreaterThan(0)

    e.faults.dropConnections()
    await eventually(() => e.stats().open === 0, 'every relayed connection to close')

    // A pool may hand out a connection it has not yet seen die; each write is retried once for that.
    for (const id of [4, 5, 6]) {
      await pool.query(`insert into \`${table}\` values (${id})`).catch((err: { fatal?: boolean }) => {
        if (!err.fatal) throw err
        return pool.query(`insert into \`${table}\` values (${id})`)
      })
    }
    const [rows] = await raw.query(`select id from \`${table}\` order by id`)
    expect(rows).toEqual([1, 2, 3, 4, 5, 6].map((id) => ({ id })))
    expect(e.stats().accepted).toBeGreaterThan(openBefore)
    expect(signed).toBe(e.stats().accepted)
  })

  it('serves 20 concurrent clients, each on its own upstream session', async () => {
    const e = await startMysqlEmulator()
    emu = e
    const conns = await Promise.all(
      Array.from({ length: 20 }, (_, i) => mysql.createConnection(iamOptions(e, `user_${i}`))),
    )
    try {
      const ids = await Promise.all(
        conns.map(async (c) => {
          const [rows] = (await c.query('select connection_id() as id')) as [{ id: number }[], unknown]
          return rows[0]?.id
        }),
      )
      expect(new Set(ids).size).toBe(20)
      expect(e.stats()).toMatchObject({ accepted: 20, open: 20 })
    } finally {
      await Promise.all(conns.map((c) => c.end()))
    }
    await eventually(() => e.stats().open === 0, 'all 20 connections to close')
  })
})
