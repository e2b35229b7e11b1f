import { randomBytes } from 'node:crypto'
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import mysql from 'mysql2/promise'
import { afterEach, describe, expect, it } from 'vitest'
import {
  Cap,
  decodeHandshakeResponse,
  encodeAuthSwitchRequest,
  encodeGreeting,
  nativePasswordScramble,
} from '../src/mysql/mysql-handshake.js'
import { encodeErrPayload, encodeOkPayload, encodePacket, PacketReader } from '../src/mysql/mysql-packets.js'
import {
  iamOptions,
  loginFailure,
  type MysqlEmulator,
  requireMysql,
  startMysqlEmulator,
  upstreamOptions,
} from './fixtures/mysql-env.js'

const available = await requireMysql()

describe.skipIf(!available)('mysql front: upstream login', () => {
  let emu: MysqlEmulator | undefined
  const cleanups: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
    await emu?.stop()
    emu = undefined
  })

  it('logs in as a password user from the URL (mysql_native_password, percent-encoded password)', async () => {
    const user = `rdsiam_${randomBytes(4).toString('hex')}`
    const password = 'p@ss:w/rd&=%'
    const raw = await mysql.createConnection(upstreamOptions())
    cleanups.push(async () => {
      await raw.query('drop user if exists ?@?', [user, '%'])
      await raw.end()
    })
    const { host, port, database } = upstreamOptions()
    await raw.query("create user ?@'%' identified by ?", [user, password])
    await raw.query(`grant select on \`${database}\`.* to ?@'%'`, [user])
    emu = await startMysqlEmulator({
      upstream: `mysql://${user}:${encodeURIComponent(password)}@${host}:${port}/${database}`,
    })
    const conn = await mysql.createConnection({ ...iamOptions(emu, 'iam_app'), database: undefined })
    cleanups.push(() => conn.end())
    const [rows] = await conn.query('select current_user() as u, database() as d')
    // No database from the client: the URL's applies.
    expect(rows).toEqual([{ u: `${user}@%`, d: database }])
  })
})

/**
 * A scripted upstream for behaviours the local MariaDB cannot show without installing server
 * plugins (an auth switch). It speaks just enough of the protocol to greet, switch and decide.
 */
async function scriptedUpstream(
  onLogin: (
    send: (seq: number, payload: Buffer) => void,
    next: () => Promise<{ seq: number; payload: Buffer }>,
  ) => Promise<void>,
): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    const reader = new PacketReader(1 << 20)
    const waiting: ((p: { seq: number; payload: Buffer }) => void)[] = []
    socket.on('data', (d) => {
      reader.push(d)
      for (let p = reader.next(); p; p = reader.next()) waiting.shift()?.(p)
    })
    const send = (seq: number, payload: Buffer) => socket.write(encodePacket(seq, payload))
    const next = () => new Promise<{ seq: number; payload: Buffer }>((resolve) => waiting.push(resolve))
    send(
      0,
      encodeGreeting({
        serverVersion: '5.5.5-10.11.0-MariaDB-scripted',
        connectionId: 7,
        scramble: Buffer.from('ABCDEFGHIJKLMNOPQRST'),
        capabilities:
          (Cap.PROTOCOL_41 |
            Cap.SECURE_CONNECTION |
            Cap.PLUGIN_AUTH |
            Cap.CONNECT_WITH_DB |
            Cap.TRANSACTIONS) >>>
          0,
        extendedCapabilities: 0,
        charset: 45,
        statusFlags: 2,
        authPluginName: 'mysql_native_password',
      }),
    )
    onLogin(send, next).catch(() => socket.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const close = server.close.bind(server)
  server.close = (cb) => {
    for (const s of sockets) s.destroy()
    return close(cb)
  }
  return { server, port: (server.address() as AddressInfo).port }
}

describe.skipIf(!available)('mysql front: upstream auth switches (scripted upstream)', () => {
  let emu: MysqlEmulator | undefined
  let upstream: Server | undefined
  afterEach(async () => {
    await emu?.stop()
    emu = undefined
    await new Promise((resolve) => upstream?.close(resolve) ?? resolve(undefined))
    upstream = undefined
  })

  it('answers a switch to mysql_native_password with the new scramble', async () => {
    const fresh = Buffer.from('0123456789abcdefghij')
    let seenUser = ''
    const scripted = await scriptedUpstream(async (send, next) => {
      const login = await next()
      seenUser = decodeHandshakeResponse(login.payload).user
      send(
        login.seq + 1,
        encodeAuthSwitchRequest('mysql_native_password', Buffer.concat([fresh, Buffer.of(0)])),
      )
      const answer = await next()
      const good = answer.payload.equals(nativePasswordScramble('s3cret', fresh))
      send(
        answer.seq + 1,
        good ? encodeOkPayload() : encodeErrPayload(1045, '28000', 'scripted: wrong scramble'),
      )
    })
    upstream = scripted.server
    emu = await startMysqlEmulator({ upstream: `mysql://svc:s3cret@127.0.0.1:${scripted.port}/db` })
    const conn = await mysql.createConnection(iamOptions(emu, 'iam_user'))
    expect(seenUser).toBe('svc')
    expect(emu.stats()).toMatchObject({ accepted: 1, open: 1 })
    conn.destroy()
  })

  it('fails clearly when the upstream asks for client_ed25519', async () => {
    const scripted = await scriptedUpstream(async (send, next) => {
      const login = await next()
      send(login.seq + 1, encodeAuthSwitchRequest('client_ed25519', Buffer.alloc(32, 1)))
      await next()
    })
    upstream = scripted.server
    emu = await startMysqlEmulator({ upstream: `mysql://svc:pw@127.0.0.1:${scripted.port}/db` })
    const err = await loginFailure(mysql.createConnection(iamOptions(emu, 'iam_user')))
    expect(err.errno).toBe(1105)
    expect(err.message).toMatch(/auth plugin 'client_ed25519'.*mysql_native_password/)
  })
})
