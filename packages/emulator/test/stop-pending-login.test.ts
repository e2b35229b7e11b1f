import { describe, expect, it } from 'vitest'
import { startEmulator } from '../src/index.js'
import { eventually, MYSQL_URL, requireMysql, signToken as signMysqlToken } from './fixtures/mysql-env.js'
import { PG_URL, requirePostgres, signToken } from './fixtures/pg-env.js'
import {
  collectUntilClose,
  mysqlRawLogin,
  pgPasswordMessage,
  pgRawUntilPassword,
} from './fixtures/raw-clients.js'

const pgReachable = await requirePostgres(PG_URL)
const mysqlReachable = await requireMysql(MYSQL_URL)

/**
 * stop() ends logins held by a `latency` fault at once instead of waiting the latency out (before
 * the fix a 60 s latency kept stop() pending for 60 s; this test's own timeout is far shorter).
 */
describe('stop() with a login held by the latency fault', () => {
  it.skipIf(!pgReachable)(
    'postgres: stop() resolves and the pending client is disconnected',
    async () => {
      const logs: string[] = []
      const emu = await startEmulator({ engine: 'postgres', upstream: PG_URL, log: (l) => logs.push(l) })
      emu.faults.latency(60_000)
      const tls = await pgRawUntilPassword(emu, { user: 'waiter', database: 'test' })
      const closed = collectUntilClose(tls)
      tls.write(pgPasswordMessage(await signToken(emu, 'waiter')))
      await eventually(() => logs.some((l) => l.includes('delayed 60000 ms')), 'the delayed login')
      await emu.stop()
      await closed
      expect(emu.stats().accepted).toBe(0)
      // The ended login is no verdict: nothing was counted as refused either.
      expect(Object.values(emu.stats().rejected).every((n) => n === 0)).toBe(true)
    },
    20_000,
  )

  it.skipIf(!mysqlReachable)(
    'mysql: stop() resolves and the pending client is disconnected',
    async () => {
      const logs: string[] = []
      const emu = await startEmulator({ engine: 'mysql', upstream: MYSQL_URL, log: (l) => logs.push(l) })
      emu.faults.latency(60_000)
      const tls = await mysqlRawLogin(emu, 'waiter', await signMysqlToken(emu, 'waiter'))
      const closed = collectUntilClose(tls)
      await eventually(() => logs.some((l) => l.includes('delayed 60000 ms')), 'the delayed login')
      await emu.stop()
      await closed
      expect(emu.stats().accepted).toBe(0)
    },
    20_000,
  )
})
