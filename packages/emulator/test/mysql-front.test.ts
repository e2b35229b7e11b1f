import { once } from 'node:events'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import { Duplex } from 'node:stream'
import { connect as tlsConnect } from 'node:tls'
import mysqlCallback from 'mysql2'
import mysql from 'mysql2/promise'
import { afterEach, describe, expect, it } from 'vitest'
import { Cap, encodeHandshakeResponse } from '../src/mysql/mysql-handshake.js'
import { decodeErrPayload, encodePacket, type MysqlPacket, PacketReader } from '../src/mysql/mysql-packets.js'
import {
  eventually,
  iamOptions,
  loginFailure,
  type MysqlClientError,
  type MysqlEmulator,
  requireMysql,
  signToken,
  startMysqlEmulator,
  uniqueTable,
  upstreamOptions,
} from './fixtures/mysql-env.js'

const available = await requireMysql()

/** RDS's exact message; `localhost` may reach the emulator over IPv4 or IPv6. */
const denied = (user: string) =>
  new RegExp(`^Access denied for user '${user}'@'(127\\.0\\.0\\.1|::1)' \\(using password: YES\\)$`)

describe.skipIf(!available)('mysql front: logins through startEmulator({ engine: "mysql" })', () => {
  let emu: MysqlEmulator | undefined
  const cleanups: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
    await emu?.stop()
    emu = undefined
  })

  it('logs in over verified TLS with a real token, then writes and reads its own table', async () => {
    emu = await startMysqlEmulator()
    const table = uniqueTable('front_rw')
    const raw = await mysql.createConnection(upstreamOptions())
    cleanups.push(async () => {
      await raw.query(`drop table if exists \`${table}\``)
      await raw.end()
    })
    const conn = await mysql.createConnection(iamOptions(emu, 'app_user'))
    cleanups.push(() => conn.end())

    const [[who]] = (await conn.query('select current_user() as u, database() as d, @@ssl_cipher as c')) as [
      { u: string; d: string }[],
      unknown,
    ]
    expect(who?.d).toBe(upstreamOptions().database)
    // The upstream URL names root, so every session runs as root whatever the IAM user is.
    expect(who?.u).toMatch(/^root@/)

    await conn.query(`create table \`${table}\` (id int primary key, note varchar(50))`)
    await conn.execute(`insert into \`${table}\` values (?, ?), (?, ?)`, [1, 'one', 2, 'two'])
    const [rows] = await conn.query(`select id, note from \`${table}\` order by id`)
    expect(rows).toEqual([
      { id: 1, note: 'one' },
      { id: 2, note: 'two' },
    ])
    // Checked on the upstream directly, not through the emulator.
    const [count] = await raw.query(`select count(*) as n from \`${table}\``)
    expect(count).toEqual([{ n: 2 }])
    expect(emu.stats().accepted).toBe(1)
  })

  it('works with the callback API of mysql2', async () => {
    emu = await startMysqlEmulator()
    const token = await signToken(emu, 'cb_user')
    const conn = mysqlCallback.createConnection(iamOptions(emu, 'cb_user', () => token))
    const result = await new Promise<unknown>((resolve, reject) =>
      conn.query('select 6 * 7 as answer', (err, rows) => (err ? reject(err) : resolve(rows))),
    )
    await new Promise<void>((resolve) => conn.end(() => resolve()))
    expect(result).toEqual([{ answer: 42 }])
  })

  it('refuses a tampered token exactly as RDS does, without echoing it', async () => {
    emu = await startMysqlEmulator()
    const good = await signToken(emu, 'alice')
    const bad = `${good.slice(0, -1)}${good.endsWith('0') ? '1' : '0'}`
    const err = await loginFailure(mysql.createConnection(iamOptions(emu, 'alice', () => bad)))
    expect(err.errno).toBe(1045)
    expect(err.sqlState).toBe('28000')
    expect(err.code).toBe('ER_ACCESS_DENIED_ERROR')
    expect(err.message).toMatch(denied('alice'))
    expect(err.message).not.toContain('X-Amz')
    expect(emu.stats().rejected.InvalidToken).toBe(1)
    expect(emu.stats().accepted).toBe(0)
  })

  it('refuses a token signed for another user', async () => {
    emu = await startMysqlEmulator()
    const bobsToken = await signToken(emu, 'bob')
    const err = await loginFailure(mysql.createConnection(iamOptions(emu, 'alice', () => bobsToken)))
    expect(err).toMatchObject({
      errno: 1045,
      sqlState: '28000',
      message: expect.stringMatching(denied('alice')),
    })
    const rejected = Object.values(emu.stats().rejected).reduce((a, b) => a + b, 0)
    expect(rejected).toBe(1)
  })

  it('refuses a client without TLS with 1045 before any token is verified', async () => {
    emu = await startMysqlEmulator()
    const token = await signToken(emu, 'alice')
    const { ssl: _ssl, ...plain } = iamOptions(emu, 'alice', () => token)
    const err = await loginFailure(mysql.createConnection({ ...plain, password: token }))
    expect(err).toMatchObject({
      errno: 1045,
      sqlState: '28000',
      message: expect.stringMatching(denied('alice')),
    })
    expect(emu.stats().accepted).toBe(0)
    expect(Object.values(emu.stats().rejected).every((n) => n === 0)).toBe(true)
  })

  it('fails the TLS handshake for a client that does not trust the emulator CA', async () => {
    emu = await startMysqlEmulator()
    const options = iamOptions(emu, 'alice')
    const err = await loginFailure(mysql.createConnection({ ...options, ssl: { rejectUnauthorized: true } }))
    expect(err.code).toBe('HANDSHAKE_SSL_ERROR')
    expect(err.message).toMatch(/self[- ]signed|unable to verify/i)
    expect(emu.stats().accepted).toBe(0)
  })

  it('uses the IAM user name upstream when the URL names none, and relays the upstream refusal', async () => {
    const { host, port, database } = upstreamOptions()
    emu = await startMysqlEmulator({ upstream: `mysql://${host}:${port}/${database}` })
    const conn = await mysql.createConnection(iamOptions(emu, 'root'))
    cleanups.push(() => conn.end())
    const [rows] = await conn.query('select current_user() as u')
    expect(rows).toEqual([{ u: expect.stringMatching(/^root@/) }])

    // The token verifies, but the upstream has no such user: its own ERR reaches the client unchanged.
    const err = await loginFailure(mysql.createConnection(iamOptions(emu, 'no_such_user_zq')))
    const direct = await loginFailure(
      mysql.createConnection({ ...upstreamOptions(), user: 'no_such_user_zq', password: '' }),
    )
    const pick = ({ errno, sqlState, message }: MysqlClientError) => ({ errno, sqlState, message })
    expect(pick(err)).toEqual(pick(direct))
    expect(pick(err).message).toMatch(/^Access denied for user 'no_such_user_zq'@/)
  })

  it('counts open relayed connections and forgets them when they close', async () => {
    emu = await startMysqlEmulator()
    const e = emu
    const conn = await mysql.createConnection(iamOptions(e, 'counter'))
    expect(e.stats().open).toBe(1)
    await conn.end()
    await eventually(() => e.stats().open === 0, 'the closed connection to leave stats().open')
    expect(e.stats().accepted).toBe(1)
  })

  it('never writes a token or the upstream password to its log', async () => {
    const lines: string[] = []
    const { host, port, database } = upstreamOptions()
    emu = await startMysqlEmulator({
      upstream: `mysql://root:@${host}:${port}/${database}`,
      log: (line) => lines.push(line),
    })
    const token = await signToken(emu, 'quiet_user')
    const conn = await mysql.createConnection(iamOptions(emu, 'quiet_user', () => token))
    await conn.end()
    const tampered = token.replace(/X-Amz-Signature=[0-9a-f]{4}/, 'X-Amz-Signature=0000')
    await loginFailure(mysql.createConnection(iamOptions(emu, 'quiet_user', () => tampered)))
    expect(lines.length).toBeGreaterThanOrEqual(2)
    const signature = /X-Amz-Signature=([0-9a-f]+)/.exec(token)?.[1] as string
    for (const line of lines) {
      expect(line).not.toContain(signature)
      expect(line).not.toContain('X-Amz-')
    }
  })

  it('answers with a clear ERR, not a hang, when the upstream is unreachable', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    await new Promise((resolve) => server.close(resolve))
    emu = await startMysqlEmulator({ upstream: `mysql://root:hunter2@127.0.0.1:${port}/test` })
    const err = await loginFailure(mysql.createConnection(iamOptions(emu, 'alice')))
    expect(err.errno).toBe(1105)
    expect(err.message).toBe(
      `rds-iam emulator: upstream MySQL at 127.0.0.1:${port} is unreachable (ECONNREFUSED)`,
    )
    expect(emu.stats().accepted).toBe(0)
  })

  it('stop() ends connections still in the handshake instead of waiting for their timeout', async () => {
    const e = await startMysqlEmulator()
    const raw = connect(e.port, '127.0.0.1')
    raw.on('error', () => {})
    await once(raw, 'data') // the greeting; the client then says nothing
    const closed = once(raw, 'close')
    await e.stop()
    await closed
    expect(raw.destroyed).toBe(true)
  })

  it('hands a TLS ClientHello that arrives with the SSLRequest to TLS, with RDS sequence ids', async () => {
    emu = await startMysqlEmulator()
    const token = await signToken(emu, 'raw_user')
    const raw = connect(emu.port, '127.0.0.1')
    cleanups.push(async () => raw.destroy())
    raw.setNoDelay(true)
    const plain = packetsOf(raw)
    const greeting = await plain.next()
    expect(greeting.seq).toBe(0)
    expect(greeting.payload[0]).toBe(10)
    plain.stop()

    const caps =
      (Cap.PROTOCOL_41 | Cap.SECURE_CONNECTION | Cap.PLUGIN_AUTH | Cap.SSL | Cap.LONG_PASSWORD) >>> 0
    const head = { capabilities: caps, extendedCapabilities: 0, maxPacketSize: 1 << 24, charset: 45 }
    const sslRequest = encodePacket(
      1,
      encodeHandshakeResponse({ ...head, user: '', authResponse: Buffer.alloc(0) }).subarray(0, 32),
    )
    // One write carries the SSLRequest and the ClientHello, as fast clients send them.
    let first = true
    const transport = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        raw.write(first ? Buffer.concat([sslRequest, chunk]) : chunk, cb)
        first = false
      },
    })
    raw.on('data', (d) => transport.push(d))
    const secure = tlsConnect({ socket: transport, ca: emu.ca, servername: 'localhost' })
    await once(secure, 'secureConnect')
    const packets = packetsOf(secure as unknown as Socket)
    secure.write(
      encodePacket(
        2,
        encodeHandshakeResponse({
          ...head,
          user: 'raw_user',
          authResponse: Buffer.alloc(20, 1),
          authPluginName: 'mysql_native_password',
        }),
      ),
    )
    const authSwitch = await packets.next()
    expect(authSwitch.seq).toBe(3)
    expect(authSwitch.payload.subarray(0, 22).toString('latin1')).toBe('\xfemysql_clear_password\0')
    secure.write(encodePacket(4, Buffer.from(`${token}\0`)))
    const ok = await packets.next()
    expect(ok.seq).toBe(5)
    expect(ok.payload[0], ok.payload[0] === 0xff ? decodeErrPayload(ok.payload).message : 'OK').toBe(0x00)
    secure.write(encodePacket(0, Buffer.from([0x0e]))) // COM_PING
    const pong = await packets.next()
    expect(pong.seq).toBe(1)
    expect(pong.payload[0]).toBe(0x00)
    secure.destroy()
  })
})

/** Reads whole packets from a socket, one at a time. */
function packetsOf(socket: Socket) {
  const reader = new PacketReader(1 << 20)
  const queue: MysqlPacket[] = []
  let wake: (() => void) | undefined
  const onData = (d: Buffer) => {
    reader.push(d)
    for (let p = reader.next(); p; p = reader.next()) queue.push(p)
    wake?.()
  }
  socket.on('data', onData)
  return {
    async next(): Promise<MysqlPacket> {
      const until = Date.now() + 5_000
      while (queue.length === 0) {
        if (Date.now() > until || socket.destroyed) throw new Error('no packet arrived')
        await new Promise<void>((r) => {
          wake = r
          setTimeout(r, 50)
        })
      }
      return queue.shift() as MysqlPacket
    },
    stop() {
      socket.off('data', onData)
    },
  }
}
