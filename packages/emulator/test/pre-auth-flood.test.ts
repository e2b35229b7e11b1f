import { type AddressInfo, createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../src/index.js'
import { MYSQL_URL, requireMysql, signToken as signMysqlToken } from './fixtures/mysql-env.js'
import { PG_URL, requirePostgres, signToken } from './fixtures/pg-env.js'
import {
  collectUntilClose,
  flood,
  mysqlRawLogin,
  pgPasswordMessage,
  pgRawUntilPassword,
} from './fixtures/raw-clients.js'

const pgReachable = await requirePostgres(PG_URL)
const mysqlReachable = await requireMysql(MYSQL_URL)

/** Far more than any pre-auth limit; without a bound the emulator would hold all of it. */
const FLOOD_BYTES = 48 * 1024 * 1024

/**
 * A client that sent its password and then pushes data while the login is pending (here: held by
 * the latency fault) must not make the emulator buffer it: the connection is ended as a protocol
 * error. Before the fix the emulator kept every byte until authorization finished.
 */
describe('pre-auth data sent while the login is pending is bounded', () => {
  let emu: Emulator | undefined
  const logs: string[] = []
  afterEach(async () => {
    await emu?.stop()
    emu = undefined
    logs.length = 0
  })

  it.skipIf(!pgReachable)(
    'postgres: a flood during a pending authorization ends the connection',
    async () => {
      emu = await startEmulator({ engine: 'postgres', upstream: PG_URL, log: (l) => logs.push(l) })
      emu.faults.latency(120_000)
      const tls = await pgRawUntilPassword(emu, { user: 'flooder', database: 'test' })
      const closed = collectUntilClose(tls)
      tls.write(pgPasswordMessage(await signToken(emu, 'flooder')))
      flood(tls, FLOOD_BYTES)
      await closed
      expect(logs.filter((l) => l.startsWith('protocol error: flood'))).toHaveLength(1)
      expect(emu.stats().protocolErrors).toBe(1)
      expect(emu.stats().accepted).toBe(0)
    },
    30_000,
  )

  it('postgres: a flood while the upstream login is pending ends the connection', async () => {
    // An upstream that accepts and never answers holds the session in its upstream login.
    const silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as AddressInfo
    try {
      emu = await startEmulator({
        engine: 'postgres',
        upstream: `postgres://postgres@127.0.0.1:${port}/test`,
        log: (l) => logs.push(l),
      })
      const tls = await pgRawUntilPassword(emu, { user: 'flooder', database: 'test' })
      const closed = collectUntilClose(tls)
      tls.write(pgPasswordMessage(await signToken(emu, 'flooder')))
      flood(tls, FLOOD_BYTES)
      await closed
      expect(emu.stats().accepted).toBe(1)
      expect(logs.filter((l) => l.startsWith('protocol error: flood'))).toHaveLength(1)
    } finally {
      silent.close()
    }
  }, 30_000)

  it.skipIf(!mysqlReachable)(
    'mysql: 4 clients flooding during a pending authorization are each ended',
    async () => {
      emu = await startEmulator({ engine: 'mysql', upstream: MYSQL_URL, log: (l) => logs.push(l) })
      emu.faults.latency(120_000)
      const clients = await Promise.all(
        ['f1', 'f2', 'f3', 'f4'].map(async (user) =>
          mysqlRawLogin(emu!, user, await signMysqlToken(emu!, user)),
        ),
      )
      const closed = clients.map(collectUntilClose)
      for (const c of clients) flood(c, FLOOD_BYTES / 4)
      await Promise.all(closed)
      expect(logs.filter((l) => l.startsWith('protocol error: flood'))).toHaveLength(4)
      expect(emu.stats().accepted).toBe(0)
    },
    30_000,
  )
})
