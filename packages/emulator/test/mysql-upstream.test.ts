import { constants, createHash, generateKeyPairSync, privateDecrypt, randomBytes } from 'node:crypto'
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

const SCRAMBLE = Buffer.from('ABCDEFGHIJKLMNOPQRST')
const sha256 = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest()

/**
 * A scripted upstream for behaviours the local MariaDB cannot show without installing server
 * plugins (an auth switch). It speaks just enough of the protocol to greet, switch and decide.
 */
async function scriptedUpstream(
  authPluginName: string,
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
        scramble: SCRAMBLE,
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
        authPluginName,
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
    const scripted = await scriptedUpstream('mysql_native_password', async (send, next) => {
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
    const scripted = await scriptedUpstream('mysql_native_password', async (send, next) => {
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

  it('logs in with caching_sha2_password: fast path, then full authentication with the server RSA key', async () => {
    const password = 'sha2-secret'
    const stored = sha256(sha256(Buffer.from(password)))
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string
    let logins = 0
    const outcomes: string[] = []
    const scripted = await scriptedUpstream('caching_sha2_password', async (send, next) => {
      const login = await next()
      const reply = decodeHandshakeResponse(login.payload).authResponse
      // Server-side check of the fast path: SHA256(reply XOR SHA256(stored + scramble)) === stored.
      const mask = sha256(stored, SCRAMBLE)
      const fastOk = sha256(Buffer.from(reply.map((b, i) => b ^ (mask[i] as number)))).equals(stored)
      outcomes.push(fastOk ? 'fast-ok' : 'fast-bad')
      if (logins++ === 0) {
        send(login.seq + 1, Buffer.from([0x01, 0x03]))
        send(login.seq + 2, encodeOkPayload())
        return
      }
      // Second login: pretend the cache is cold and demand the password RSA-encrypted.
      send(login.seq + 1, Buffer.from([0x01, 0x04]))
      const askKey = await next()
      outcomes.push(askKey.payload.equals(Buffer.from([0x02])) ? 'asked-key' : 'no-key-request')
      send(askKey.seq + 1, Buffer.concat([Buffer.from([0x01]), Buffer.from(pem)]))
      const encrypted = await next()
      const clear = privateDecrypt(
        { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING },
        encrypted.payload,
      )
      const plain = Buffer.from(clear.map((b, i) => b ^ (SCRAMBLE[i % SCRAMBLE.length] as number)))
      const fullOk = plain.equals(Buffer.from(`${password}\0`))
      outcomes.push(fullOk ? 'full-ok' : 'full-bad')
      send(
        encrypted.seq + 1,
        fullOk ? encodeOkPayload() : encodeErrPayload(1045, '28000', 'scripted: bad password'),
      )
    })
    upstream = scripted.server
    emu = await startMysqlEmulator({ upstream: `mysql://svc:${password}@127.0.0.1:${scripted.port}/db` })
    const first = await mysql.createConnection(iamOptions(emu, 'iam_user'))
    first.destroy()
    const second = await mysql.createConnection(iamOptions(emu, 'iam_user'))
    second.destroy()
    expect(outcomes).toEqual(['fast-ok', 'fast-ok', 'asked-key', 'full-ok'])
  })
})
