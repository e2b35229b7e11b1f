import { readFileSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { createSecureContext, TLSSocket } from 'node:tls'

// The attacker of the TLS tests: enough of the MySQL protocol to get a client to the point where
// it sends its password. It greets (offering TLS or not), upgrades to TLS with a certificate from
// a test CA that names only DNS:localhost (test/fixtures/localhost-only; the CA key was discarded
// after issuing it), switches the login to mysql_clear_password and records what the client sends
// then, which is where an IAM token would arrive. A real database is not needed: the tests are
// about what leaves the client before any database sees a login.

const FIXTURES = new URL('./fixtures/localhost-only/', import.meta.url)
/** The CA that issued the fake server's certificate (DNS:localhost only, no IP address). */
export const LOCALHOST_ONLY_CA = readFileSync(new URL('ca.pem', FIXTURES), 'utf8')
const KEY = readFileSync(new URL('server.key', FIXTURES), 'utf8')
const CERT = readFileSync(new URL('server.pem', FIXTURES), 'utf8')

const CLIENT_SSL = 0x800
// CLIENT_LONG_PASSWORD | FOUND_ROWS | LONG_FLAG | CONNECT_WITH_DB | PROTOCOL_41 | TRANSACTIONS |
// SECURE_CONNECTION | PLUGIN_AUTH, plus CLIENT_SSL when TLS is offered.
const BASE_CAPABILITIES = 0x1 | 0x2 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x80000

export interface FakeMysqlServer {
  port: number
  /**
   * When true, the server closes each connection once TLS is up and the client's login arrives,
   * without asking for a password (default false); the client has its session ticket by then.
   */
  hangUpBeforePassword: boolean
  /** How many TLS handshakes resumed an earlier session (the server keeps one ticket key throughout). */
  resumed(): number
  /** How many clients connected. */
  connections(): number
  /**
   * How many clients answered the switch to mysql_clear_password, which is where an IAM token
   * would arrive (only counted: a token must not end up in test output).
   */
  passwordsReceived(): number
  close(): Promise<void>
}

function packet(sequence: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(4)
  header.writeUIntLE(payload.length, 0, 3)
  header[3] = sequence
  return Buffer.concat([header, payload])
}

function greeting(offerTls: boolean): Buffer {
  const capabilities = BASE_CAPABILITIES | (offerTls ? CLIENT_SSL : 0)
  const scramble = Buffer.alloc(20, 0x41)
  const low = Buffer.alloc(2)
  low.writeUInt16LE(capabilities & 0xffff)
  const high = Buffer.alloc(2)
  high.writeUInt16LE(capabilities >>> 16)
  return packet(
    0,
    Buffer.concat([
      Buffer.from([0x0a]),
      Buffer.from('8.0.99-fake\0'),
      Buffer.from([1, 0, 0, 0]),
      scramble.subarray(0, 8),
      Buffer.from([0]),
      low,
      Buffer.from([33]),
      Buffer.from([2, 0]),
      high,
      Buffer.from([21]),
      Buffer.alloc(10),
      scramble.subarray(8),
      Buffer.from([0]),
      Buffer.from('mysql_native_password\0'),
    ]),
  )
}

/** Starts the fake server on 127.0.0.1 (an ephemeral port), offering TLS unless `offerTls: false`. */
export async function startFakeMysqlServer(options: { offerTls?: boolean } = {}): Promise<FakeMysqlServer> {
  const offerTls = options.offerTls !== false
  // One context for every connection, so a session ticket it issued can be resumed later.
  const secureContext = createSecureContext({ key: KEY, cert: CERT })
  let resumed = 0
  let connections = 0
  let passwords = 0
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    connections += 1
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    socket.write(greeting(offerTls))
    // Read exactly the first packet and leave what follows (a TLS ClientHello may come in the
    // same chunk) in the socket's buffer, which the TLS socket below takes over.
    let length: number | undefined
    const onReadable = () => {
      if (length === undefined) {
        const header = socket.read(4) as Buffer | null
        if (header === null) return
        length = header.readUIntLE(0, 3)
        // An SSLRequest is 32 bytes; anything else is a login in the clear, which a client with
        // TLS required never sends.
        if (!offerTls || length !== 32) {
          socket.destroy()
          return
        }
      }
      if (socket.read(length) === null) return
      socket.off('readable', onReadable)
      const secure = new TLSSocket(socket, { isServer: true, secureContext })
      secure.on('error', () => {})
      secure.on('secure', () => {
        if (secure.isSessionReused()) resumed += 1
      })
      let switched = false
      secure.on('data', (chunk: Buffer) => {
        if (!switched) {
          if (fake.hangUpBeforePassword) {
            secure.end()
            return
          }
          // The HandshakeResponse: answer with AuthSwitchRequest to mysql_clear_password.
          switched = true
          const sequence = chunk[3]! + 1
          secure.write(packet(sequence, Buffer.from('\xfemysql_clear_password\0', 'latin1')))
          return
        }
        passwords += 1
        secure.destroy()
      })
    }
    socket.on('readable', onReadable)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const fake: FakeMysqlServer = {
    port,
    hangUpBeforePassword: false,
    resumed: () => resumed,
    connections: () => connections,
    passwordsReceived: () => passwords,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
  return fake
}
