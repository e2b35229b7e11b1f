import { randomBytes } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import { inspect } from 'node:util'
import { createAuthGate, type EmulatorFaults, type EmulatorStats } from './auth-gate.js'
import { issueCertificates } from './certificates.js'
import type { FrontContext } from './internal-types.js'
import { createMysqlFront } from './mysql/mysql-front.js'
import { createPostgresFront } from './postgres/postgres-front.js'
import { type EmulatorCredential, type EmulatorPolicyStatement, TokenVerifier } from './token-verifier.js'

/** Options of {@link startEmulator}; every field but `engine` is optional. */
export interface EmulatorOptions {
  engine: 'postgres' | 'mysql'
  /** Port to listen on; 0 (default) picks an ephemeral port. */
  port?: number
  /**
   * Where verified sessions go: `postgres://…` or `mysql://…`. PostgreSQL default: an embedded
   * PGlite; MySQL default: `mysql://root@127.0.0.1:3306/test`. A user in the URL is used upstream
   * for every session; otherwise the IAM user's own name.
   */
  upstream?: string
  /** Region tokens must be signed for; default `us-east-1`. */
  region?: string
  /** `host:port` tokens must be signed for; default `localhost:<port>`. */
  endpoint?: string
  /** Known access keys; default one generated test key, returned as `credentials[0]`. */
  credentials?: EmulatorCredential[]
  /** Which keys may connect as which users (`*` wildcards); default any key as any user. */
  policy?: EmulatorPolicyStatement[]
  /** Accepted future clock skew in seconds; default 300. */
  skewSeconds?: number
  /** Receives one line per login verdict and protocol error (RDS-style reason, never a token); default silent. */
  log?: (line: string) => void
  /** Ends connections that have not sent their password this long after connecting; default 10 000 ms. */
  handshakeTimeoutMs?: number
  /** Address to listen on; default loopback (127.0.0.1, and ::1 on the same port when available). */
  listenHost?: string
}

/** A running emulator, see {@link startEmulator}. */
export interface Emulator {
  /** Host name clients should connect to (covered by the certificate). */
  host: string
  port: number
  /** `host:port` tokens must be signed for. */
  endpoint: string
  region: string
  /** PEM of the generated CA; the server certificate covers localhost, 127.0.0.1 and ::1. */
  ca: string
  credentials: EmulatorCredential[]
  stats(): EmulatorStats
  faults: EmulatorFaults
  /** Closes the listener, every open connection and the embedded PGlite, if any. Idempotent. */
  stop(): Promise<void>
}

/** Every default in one place. */
const DEFAULTS = {
  region: 'us-east-1',
  listenHost: '127.0.0.1',
  mysqlUpstream: 'mysql://root@127.0.0.1:3306/test',
  connectHost: 'localhost',
} as const

/**
 * Starts a local RDS IAM endpoint: a PostgreSQL or MySQL wire front that asks for the IAM token,
 * verifies it as RDS does, answers failures with RDS's exact codes and messages, and relays
 * verified sessions to a real database.
 *
 * @example
 * ```ts
 * const emu = await startEmulator({ engine: 'postgres', upstream: 'postgres://postgres@127.0.0.1:5432/test' })
 * const token = await new Signer({ hostname: 'localhost', port: emu.port, username: 'app',
 *   region: emu.region, credentials: emu.credentials[0] }).getAuthToken()
 * const client = new pg.Client({ host: 'localhost', port: emu.port, user: 'app', password: token, ssl: { ca: emu.ca } })
 * await emu.stop()
 * ```
 */
export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  if (options.engine !== 'postgres' && options.engine !== 'mysql') {
    throw new TypeError(`startEmulator: engine must be 'postgres' or 'mysql', got ${String(options.engine)}`)
  }
  const region = options.region ?? DEFAULTS.region
  const credentials = (options.credentials ?? [generateCredential()]).map(redactedCopy)
  if (credentials.length === 0) throw new TypeError('startEmulator: credentials must not be empty')
  for (const c of credentials) {
    if (typeof c.accessKeyId !== 'string' || typeof c.secretAccessKey !== 'string' || c.accessKeyId === '') {
      throw new TypeError('startEmulator: each credential needs string accessKeyId and secretAccessKey')
    }
  }

  const cleanups: (() => Promise<void>)[] = []
  try {
    let upstream = options.upstream
    if (upstream === undefined && options.engine === 'mysql') upstream = DEFAULTS.mysqlUpstream
    if (upstream === undefined) {
      // PGlite is a large WASM module: load it only for users who did not bring a database.
      const { startPgliteUpstream } = await import('./postgres/pglite-upstream.js')
      const pglite = await startPgliteUpstream()
      cleanups.push(pglite.stop)
      upstream = pglite.url
    }
    checkUpstream(options.engine, upstream)

    const listenHost = options.listenHost ?? DEFAULTS.listenHost
    const endpointHost = options.endpoint?.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')
    const certs = await issueCertificates(endpointHost === undefined ? [] : [endpointHost])

    // The endpoint can depend on the port, which is only known after listen: the verifier is
    // built lazily on first use through this indirection.
    let verifier: TokenVerifier | undefined
    const gate = createAuthGate({
      verifier: { verify: (...args) => verifier!.verify(...args) },
      log: options.log,
    })
    const ctx: FrontContext = { gate, tls: { key: certs.key, cert: certs.cert }, upstream }
    const frontOptions =
      options.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: options.handshakeTimeoutMs }
    const server =
      options.engine === 'postgres'
        ? createPostgresFront(ctx, frontOptions)
        : createMysqlFront(ctx, frontOptions)
    cleanups.push(() => closeServer(server))

    const port = await listen(server, options.port ?? 0, listenHost)
    // After listen, a server error (e.g. EMFILE on accept) must be reported, not crash the process.
    server.on('error', (err) => gate.log(`listener error: ${err.message}`))
    if (options.listenHost === undefined) {
      // `localhost` resolves to ::1 first on many systems; accept it there too, on the same port.
      const v6 = await listenAlias(server, port, '::1')
      if (v6 !== undefined) cleanups.push(() => closeServer(v6))
    }
    const endpoint = options.endpoint ?? `${DEFAULTS.connectHost}:${port}`
    verifier = new TokenVerifier({
      region,
      endpoint,
      credentials,
      policy: options.policy,
      skewSeconds: options.skewSeconds,
    })

    let stopped: Promise<void> | undefined
    return {
      host: DEFAULTS.connectHost,
      port,
      endpoint,
      region,
      ca: certs.ca,
      credentials,
      stats: () => gate.stats(),
      faults: gate.faults,
      stop() {
        stopped ??= (async () => {
          gate.faults.dropConnections()
          await runCleanups(cleanups)
          await gate.settle()
        })()
        return stopped
      },
    }
  } catch (err) {
    await runCleanups(cleanups)
    throw err
  }
}

/**
 * A copy whose `util.inspect` / `console.log` output hides the secret and session token, so a
 * logged emulator or credential does not leak them; property access (signers) is unchanged.
 */
function redactedCopy(credential: EmulatorCredential): EmulatorCredential {
  const copy = { ...credential }
  Object.defineProperty(copy, inspect.custom, {
    enumerable: false,
    value: () => ({
      accessKeyId: copy.accessKeyId,
      secretAccessKey: '[redacted]',
      ...(copy.sessionToken === undefined ? {} : { sessionToken: '[redacted]' }),
      ...(copy.expiration === undefined ? {} : { expiration: copy.expiration }),
    }),
  })
  return copy
}

function checkUpstream(engine: 'postgres' | 'mysql', upstream: string): void {
  let url: URL
  try {
    url = new URL(upstream)
  } catch {
    throw new TypeError(`startEmulator: upstream is not a URL (expected ${engine}://user@host:port/db)`)
  }
  const ok = engine === 'postgres' ? ['postgres:', 'postgresql:'] : ['mysql:', 'mariadb:']
  if (!ok.includes(url.protocol)) {
    throw new TypeError(
      `startEmulator: upstream for engine ${engine} must start with ${ok[0]}//, got ${url.protocol}//`,
    )
  }
}

/** A test key shaped like a real one (AKIA + 16 base32 characters, 40-character secret). */
function generateCredential(): EmulatorCredential {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  const id = [...randomBytes(16)].map((b) => alphabet[b % 32]).join('')
  return {
    accessKeyId: `AKIA${id}`,
    secretAccessKey: randomBytes(30).toString('base64').replace(/\+/g, 'A').replace(/\//g, 'B'),
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err)
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      const address = server.address()
      if (address === null || typeof address === 'string') reject(new Error('emulator: no TCP address'))
      else resolve(address.port)
    })
  })
}

/** Listens on another address and hands its connections to `server`; undefined when that address is unavailable. */
async function listenAlias(server: Server, port: number, host: string): Promise<Server | undefined> {
  const alias = createServer((socket: Socket) => server.emit('connection', socket))
  try {
    await listen(alias, port, host)
    alias.on('error', () => {})
    return alias
  } catch {
    alias.close()
    return undefined
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve()
    server.close(() => resolve())
  })
}

async function runCleanups(cleanups: (() => Promise<void>)[]): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup()
    } catch {
      // Stopping is best effort; one failing part must not keep the others running.
    }
  }
}
