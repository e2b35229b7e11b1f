import { randomBytes } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import { inspect } from 'node:util'
import {
  createAuthGate,
  type EmulatorAuthGate,
  type EmulatorFaults,
  type EmulatorStats,
} from './auth-gate.js'
import { issueCertificates } from './certificates.js'
import { DsqlTokenVerifier } from './dsql-token-verifier.js'
import type { FrontContext } from './internal-types.js'
import { createMysqlFront } from './mysql/mysql-front.js'
import { createPostgresFront } from './postgres/postgres-front.js'
import { type EmulatorCredential, type EmulatorPolicyStatement, TokenVerifier } from './token-verifier.js'

/** Options of {@link startEmulator}; every field but `engine` is optional. */
export interface EmulatorOptions {
  /**
   * `'postgres'` / `'mysql'`: RDS and Aurora. `'dsql'`: Aurora DSQL on the PostgreSQL front
   * (DSQL tokens: service `dsql`, `DbConnectAdmin` for `admin`, `DbConnect` for mapped roles).
   */
  engine: 'postgres' | 'mysql' | 'dsql'
  /**
   * Stand in for RDS Proxy in front of the engine (`postgres` or `mysql`): TLS is mandatory, tokens
   * are signed for the proxy endpoint (`endpoint`), refusals use RDS Proxy's documented texts, and
   * `faults.proxyRefuseNext()` simulates its capacity refusals. Default false.
   */
  proxy?: boolean
  /**
   * `engine: 'dsql'` only: access keys (`*` wildcards) allowed `dsql:DbConnectAdmin`, i.e. to log
   * in as `admin`. Default: every known key.
   */
  admins?: string[]
  /**
   * `engine: 'dsql'` only: database roles (`*` wildcards) → the access keys mapped to them
   * (`AWS IAM GRANT <role> TO '<arn>'`, plus `dsql:DbConnect`). Default: every key may use every
   * non-admin role.
   */
  roles?: Record<string, string[]>
  /** Port to listen on; 0 (default) picks an ephemeral port. */
  port?: number
  /**
   * Where verified sessions go: `postgres://…` or `mysql://…`. PostgreSQL default: an embedded
   * PGlite; MySQL default: `mysql://root@127.0.0.1:3306/test`. A user in the URL is used upstream
   * for every session; otherwise the IAM user's own name.
   */
  upstream?: string
  /** Region tokens must be signed for; default: the region of a DSQL `endpoint`, else `us-east-1`. */
  region?: string
  /**
   * `host:port` tokens must be signed for; default `localhost:<port>`. For `engine: 'dsql'` the
   * cluster host (`<id>.dsql.<region>.on.aws`; a `:port` is ignored, DSQL signs no port);
   * default `localhost`. The server certificate also covers this host.
   */
  endpoint?: string
  /** Known access keys; default one generated test key, returned as `credentials[0]`. */
  credentials?: EmulatorCredential[]
  /** Which keys may connect as which users (`*` wildcards); default any key as any user. */
  policy?: EmulatorPolicyStatement[]
  /** Accepted future clock skew in seconds (finite, >= 0); default 300. */
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
  /** `host:port` tokens must be signed for; for `engine: 'dsql'` the cluster host alone. */
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

/** Raised by {@link startEmulator} for an option it does not know or cannot use; before anything starts. */
export class EmulatorOptionsError extends TypeError {
  override readonly name = 'EmulatorOptionsError'
  readonly code = 'EMULATOR_INVALID_OPTIONS'
  /** The option at fault. */
  readonly option: string
  /**
   * @example
   * ```ts
   * throw new EmulatorOptionsError('proxi', 'unknown option proxi (did you mean proxy?)')
   * ```
   */
  constructor(option: string, message: string) {
    super(`startEmulator: ${message}`)
    this.option = option
  }
}

const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
  'engine',
  'proxy',
  'admins',
  'roles',
  'port',
  'upstream',
  'region',
  'endpoint',
  'credentials',
  'policy',
  'skewSeconds',
  'log',
  'handshakeTimeoutMs',
  'listenHost',
])

const DSQL_HOST = /^(?:[a-z0-9-]+\.)+dsql\.([a-z]{2,}(?:-[a-z]+)+-\d+)\.on\.aws$/i

function checkOptions(options: EmulatorOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new EmulatorOptionsError('options', "pass an options object, e.g. { engine: 'postgres' }")
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new EmulatorOptionsError(
        key,
        `unknown option ${key}; known options: ${[...KNOWN_OPTIONS].join(', ')}`,
      )
    }
  }
  if (options.engine !== 'postgres' && options.engine !== 'mysql' && options.engine !== 'dsql') {
    throw new EmulatorOptionsError(
      'engine',
      `engine must be 'postgres', 'mysql' or 'dsql', got ${String(options.engine)}`,
    )
  }
  if (options.proxy !== undefined && typeof options.proxy !== 'boolean') {
    throw new EmulatorOptionsError('proxy', 'proxy must be a boolean')
  }
  if (options.proxy === true && options.engine === 'dsql') {
    throw new EmulatorOptionsError(
      'proxy',
      'RDS Proxy does not front Aurora DSQL; use proxy with postgres or mysql',
    )
  }
  if (options.engine !== 'dsql') {
    for (const key of ['admins', 'roles'] as const) {
      if (options[key] !== undefined) {
        throw new EmulatorOptionsError(key, `${key} applies to engine 'dsql' only; for RDS use policy`)
      }
    }
  } else if (options.policy !== undefined) {
    throw new EmulatorOptionsError('policy', "engine 'dsql' takes admins and roles instead of policy")
  }
  if (options.skewSeconds !== undefined && !isFiniteAtLeast(options.skewSeconds, 0)) {
    // NaN would make the future-date check always false, i.e. accept a token dated next week.
    throw new EmulatorOptionsError(
      'skewSeconds',
      `skewSeconds must be a finite number of seconds >= 0 (default 300), got ${shown(options.skewSeconds)}`,
    )
  }
  if (
    options.handshakeTimeoutMs !== undefined &&
    !(isFiniteAtLeast(options.handshakeTimeoutMs, 0) && options.handshakeTimeoutMs > 0)
  ) {
    throw new EmulatorOptionsError(
      'handshakeTimeoutMs',
      `handshakeTimeoutMs must be a finite number of milliseconds > 0 (default 10000), got ${shown(options.handshakeTimeoutMs)}`,
    )
  }
  if (options.endpoint !== undefined) {
    if (typeof options.endpoint !== 'string' || options.endpoint === '') {
      throw new EmulatorOptionsError(
        'endpoint',
        `endpoint must be a host name, got ${shown(options.endpoint)}`,
      )
    }
    // RDS tokens sign host:port; without the port every token fails as a bad signature, logged as a
    // PAM failure with nothing naming the option. DSQL signs the host alone (a :port is dropped).
    if (options.engine !== 'dsql' && !hasPort(options.endpoint)) {
      throw new EmulatorOptionsError(
        'endpoint',
        `endpoint must be host:port (the port the token is signed for, e.g. ${options.endpoint.replace(/:$/, '')}:${options.engine === 'mysql' ? 3306 : 5432}), got ${options.endpoint}`,
      )
    }
  }
  if (options.credentials !== undefined) checkCredentials(options.credentials)
  if (
    options.admins !== undefined &&
    !(Array.isArray(options.admins) && options.admins.every((k) => typeof k === 'string'))
  ) {
    throw new EmulatorOptionsError('admins', 'admins must be an array of access key ids')
  }
  if (options.roles !== undefined) {
    const r = options.roles
    if (
      typeof r !== 'object' ||
      r === null ||
      Array.isArray(r) ||
      !Object.values(r).every((keys) => Array.isArray(keys) && keys.every((k) => typeof k === 'string'))
    ) {
      throw new EmulatorOptionsError(
        'roles',
        "roles must map role names to access key ids, e.g. { app: ['AKIA…'] }",
      )
    }
  }
}

function isFiniteAtLeast(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min
}

/** A value for an error message: strings quoted, so `'abc'` is not mistaken for a number. */
function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}

/** `host:port` or `[v6]:port`, port 1–65535. */
function hasPort(endpoint: string): boolean {
  const m = /^(?:\[[^\]]+\]|[^:[\]\s/]+):(\d{1,5})$/.exec(endpoint)
  return m !== null && Number(m[1]) >= 1 && Number(m[1]) <= 65_535
}

function checkCredentials(credentials: unknown): void {
  if (!Array.isArray(credentials)) {
    throw new EmulatorOptionsError(
      'credentials',
      'credentials must be an array of { accessKeyId, secretAccessKey }',
    )
  }
  if (credentials.length === 0) throw new EmulatorOptionsError('credentials', 'credentials must not be empty')
  for (const c of credentials as Partial<EmulatorCredential>[]) {
    if (typeof c?.accessKeyId !== 'string' || typeof c.secretAccessKey !== 'string' || c.accessKeyId === '') {
      throw new EmulatorOptionsError(
        'credentials',
        'each credential needs string accessKeyId and secretAccessKey',
      )
    }
    if (c.sessionToken !== undefined && typeof c.sessionToken !== 'string') {
      throw new EmulatorOptionsError('credentials', `sessionToken of ${c.accessKeyId} must be a string`)
    }
    // A Date only, not an ISO string converted here: EmulatorCredential (and the AWS SDK's
    // credential type it mirrors) says Date, and a string reaching the verifier threw on every
    // login with nothing pointing at the option.
    const e: unknown = c.expiration
    if (e !== undefined && !(e instanceof Date && Number.isFinite(e.getTime()))) {
      throw new EmulatorOptionsError(
        'credentials',
        `expiration of ${c.accessKeyId} must be a valid Date, e.g. new Date('2030-01-01T00:00:00Z'), got ${shown(e instanceof Date ? 'Invalid Date' : e)}`,
      )
    }
  }
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
  checkOptions(options)
  const dsql = options.engine === 'dsql'
  const wire: 'postgres' | 'mysql' = options.engine === 'mysql' ? 'mysql' : 'postgres'
  const dsqlHost = dsql ? (options.endpoint ?? DEFAULTS.connectHost).replace(/:\d+$/, '') : undefined
  const region =
    options.region ?? (dsqlHost ? DSQL_HOST.exec(dsqlHost)?.[1]?.toLowerCase() : undefined) ?? DEFAULTS.region
  const credentials = (options.credentials ?? [generateCredential()]).map(redactedCopy)

  /** What stop() runs after the listeners are closed (the embedded PGlite). */
  const cleanups: (() => Promise<void>)[] = []
  /** The front's server first, then the ::1 alias that hands its connections to it. */
  const listeners: Server[] = []
  /** Set once built, so that a start failing after it (listen, say) still settles it. */
  let builtGate: EmulatorAuthGate | undefined
  try {
    let upstream = options.upstream
    if (upstream === undefined && wire === 'mysql') upstream = DEFAULTS.mysqlUpstream
    if (upstream === undefined) {
      // PGlite is a large WASM module: load it only for users who did not bring a database.
      const { startPgliteUpstream } = await import('./postgres/pglite-upstream.js')
      const pglite = await startPgliteUpstream()
      cleanups.push(pglite.stop)
      upstream = pglite.url
    }
    checkUpstream(wire, upstream)

    const listenHost = options.listenHost ?? DEFAULTS.listenHost
    const endpointHost = options.endpoint?.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')
    const certs = await issueCertificates(endpointHost === undefined ? [] : [endpointHost])

    // The endpoint can depend on the port, which is only known after listen: the verifier is
    // built lazily on first use through this indirection.
    let verifier: Pick<TokenVerifier, 'verify'> | undefined
    const gate = createAuthGate({
      verifier: { verify: (...args) => verifier!.verify(...args) },
      log: options.log,
      proxy: options.proxy === true,
    })
    builtGate = gate
    const ctx: FrontContext = {
      gate,
      tls: { key: certs.key, cert: certs.cert },
      upstream,
      flavor: { service: dsql ? 'dsql' : 'rds', proxy: options.proxy === true },
    }
    const frontOptions =
      options.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: options.handshakeTimeoutMs }
    const server =
      wire === 'postgres' ? createPostgresFront(ctx, frontOptions) : createMysqlFront(ctx, frontOptions)
    listeners.push(server)

    const port = await listen(server, options.port ?? 0, listenHost)
    // After listen, a server error (e.g. EMFILE on accept) must be reported, not crash the process.
    server.on('error', (err) => gate.log(`listener error: ${err.message}`))
    if (options.listenHost === undefined) {
      // `localhost` resolves to ::1 first on many systems; accept it there too, on the same port.
      const v6 = await listenAlias(server, port, '::1')
      if (v6 !== undefined) listeners.push(v6)
    }
    const endpoint = dsqlHost ?? options.endpoint ?? `${DEFAULTS.connectHost}:${port}`
    verifier =
      dsqlHost === undefined
        ? new TokenVerifier({
            region,
            endpoint,
            credentials,
            policy: options.policy,
            skewSeconds: options.skewSeconds,
          })
        : new DsqlTokenVerifier({
            region,
            host: dsqlHost,
            credentials,
            admins: options.admins,
            roles: options.roles,
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
        stopped ??= shutdown(gate, listeners, cleanups)
        return stopped
      },
    }
  } catch (err) {
    await shutdown(builtGate, listeners, cleanups)
    throw err
  }
}

/**
 * Stops an emulator. Everything that stops new work happens synchronously, before the first
 * await: the gate refuses every later login, every listener (main and ::1 alias) stops
 * accepting, connections still logging in (whichever listener took them; the alias hands its
 * sockets to the main server, which tracks them) and relayed sessions are destroyed. Only then
 * does it wait for the listeners to report closed. Closing one listener and awaiting it before the
 * next (what it did before) let a plain close of the alias wait for an idle ::1 socket until the
 * handshake timer, while the main listener kept accepting and a delayed login was let through.
 */
async function shutdown(
  gate: EmulatorAuthGate | undefined,
  listeners: Server[],
  cleanups: (() => Promise<void>)[],
): Promise<void> {
  const settled = gate?.settle()
  const closing = listeners.splice(0).map(closeServer)
  gate?.faults.dropConnections()
  await Promise.all([settled, ...closing])
  await runCleanups(cleanups)
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
