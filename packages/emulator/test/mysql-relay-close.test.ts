import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  iamOptions,
  type MysqlClientError,
  type MysqlEmulator,
  requireMysql,
  startMysqlEmulator,
  upstreamOptions,
} from './fixtures/mysql-env.js'

const available = await requireMysql()

/**
 * When the upstream ends a session with a final error packet (KILL, shutdown, a timeout), the
 * client must receive that packet: the relay ends the client side after flushing, it does not
 * destroy it. Before the fix most clients saw ECONNRESET / a lost connection instead.
 */
describe.skipIf(!available)('mysql relay: the upstream closing a session', () => {
  let emu: MysqlEmulator
  beforeAll(async () => {
    emu = await startMysqlEmulator()
  })
  afterAll(async () => {
    await emu?.stop()
  })

  it("delivers the server's final error to the client when the upstream resets the session", async () => {
    // A query over max_allowed_packet: MariaDB answers ER_NET_PACKET_TOO_LARGE and closes while
    // the client is still sending, so the upstream socket ends in a reset right after the packet.
    const admin = await mysql.createConnection(upstreamOptions())
    const [rows] = await admin.query('select @@global.max_allowed_packet as max')
    await admin.end()
    const oversized = `select '${'x'.repeat((rows as { max: number }[])[0]!.max + 1024)}' as x`
    const clients = await Promise.all(
      Array.from({ length: 10 }, () => mysql.createConnection(iamOptions(emu, 'relay_reset'))),
    )
    const codes = await Promise.all(
      clients.map((client) => {
        client.on('error', () => {})
        return client.query(oversized).then(
          () => undefined,
          (e: MysqlClientError) => e.code,
        )
      }),
    )
    for (const client of clients) client.destroy()
    expect(codes).toEqual(Array.from({ length: 10 }, () => 'ER_NET_PACKET_TOO_LARGE'))
  }, 60_000)

  it('delivers the final error packet of an upstream that resets the connection, to a client slow to read', async () => {
    // A proxy in front of the upstream answers the first bytes of a marked (large) query with an
    // ERR packet and shortly after resets the connection, as a server does that refuses a packet
    // and hangs up while the client is still sending.
    const target = upstreamOptions()
    const resets: Promise<void>[] = []
    const proxy = createServer((down) => {
      const up = connect({ host: target.host!, port: target.port! })
      up.on('error', () => down.destroy())
      down.on('error', () => up.destroy())
      up.pipe(down)
      let refused = false
      down.on('data', (chunk: Buffer) => {
        if (refused) return // the rest of the big query is read and dropped
        if (!chunk.includes('reset_me')) return void up.write(chunk)
        refused = true
        up.destroy()
        const payload = Buffer.concat([
          Buffer.from([0xff, 0x87, 0x07]), // ERR, 1927 (ER_CONNECTION_KILLED)
          Buffer.from('#70100Connection was killed'),
        ])
        const head = Buffer.alloc(4)
        head.writeUIntLE(payload.length, 0, 3)
        head[3] = 1
        resets.push(
          new Promise((resolve) => {
            // The pause lets the emulator read the packet first: data after a reset is lost in any kernel.
            down.write(Buffer.concat([head, payload]), () =>
              setTimeout(() => {
                down.resetAndDestroy()
                resolve()
              }, 100),
            )
          }),
        )
      })
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const proxied = await startMysqlEmulator({
      upstream: `mysql://${target.user}@127.0.0.1:${(proxy.address() as AddressInfo).port}/${target.database}`,
    })
    try {
      const clients = await Promise.all(
        Array.from({ length: 10 }, () => mysql.createConnection(iamOptions(proxied, 'relay_reset'))),
      )
      const big = `select 'reset_me', '${'y'.repeat(4 * 1024 * 1024)}'`
      const streams = clients.map(
        (c) => (c as unknown as { connection: { stream: Socket } }).connection.stream,
      )
      const errors = clients.map((client, i) => {
        client.on('error', () => {})
        const result = client.query(big).then(
          () => undefined,
          (e: MysqlClientError) => e.errno ?? e.code,
        )
        // The clients read nothing until the upstream side is gone (and the emulator saw it go).
        streams[i]!.pause()
        return result
      })
      while (resets.length < clients.length) await new Promise((r) => setTimeout(r, 10))
      await Promise.all(resets)
      // Gives the emulator time to handle the reset before the clients read. Too short a wait
      // could only let broken code pass, never fail correct code (which flushes, then lingers 2 s).
      await new Promise((r) => setTimeout(r, 200))
      for (const s of streams) s.resume()
      expect(await Promise.all(errors)).toEqual(Array.from({ length: 10 }, () => 1927))
      for (const client of clients) client.destroy()
    } finally {
      await proxied.stop()
      proxy.close()
    }
  }, 30_000)
})
