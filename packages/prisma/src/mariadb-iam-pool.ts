import { connect as netConnect, type Socket } from 'node:net'
import {
  type ConnectionOptions,
  type PeerCertificate,
  checkServerIdentity as tlsCheckServerIdentity,
} from 'node:tls'
import {
  authFailureHint,
  type ConnectionAuth,
  type IamOptions,
  isAuthError,
  isRdsIamError,
  RdsIamError,
  type TokenProvider,
} from '@rds-iam/core'
import { SUPPORTED_MARIADB_CONNECTOR_VERSIONS } from './supported-versions.js'

/** The part of a mariadb pool connection used here (and by `@prisma/adapter-mariadb`). */
interface PoolConnectionLike {
  query(sql: unknown, values?: unknown): Promise<unknown>
  execute(sql: unknown, values?: unknown): Promise<unknown>
  release(): Promise<void> | void
  [key: string]: unknown
}

/** The connector's pool options object (`lib/config/pool-options.js`). */
export interface MariaDbPoolOptionsLike {
  minimumIdle: number
  connectionLimit: number
}

/** The connector's callback-API pool (`lib/pool.js`): public counters and the methods overridden here. */
interface BasePool {
  opts: MariaDbPoolOptionsLike
  getConnection(cmdParam: object, callback: (err: unknown, conn?: BaseConnection) => void): void
  end(): Promise<void>
  on(event: string, listener: (...args: unknown[]) => void): unknown
  idleConnections(): number
  totalConnections(): number
  activeConnections(): number
  taskQueueSize(): number
  _shouldCreateMoreConnections(): boolean
  _initiateConnectionCreation(timeoutEnd: number): void
  _onConnectionCreationSuccess(): void
  _createPoolConnection(onSuccess: unknown, onError: (err: unknown) => void, timeoutEnd: number): void
  _onConnectionCreationError(err: unknown, timeoutEnd: number): void
  _scheduleRetryWithBackoff(delay: number): void
}

/** A connection of the callback-API pool. */
interface BaseConnection {
  release(callback?: () => void): void
}

/**
 * The connector classes `mariadb.createPool()` combines (3.4.5: `lib/config/pool-options.js`,
 * `lib/pool.js`, `lib/connection-promise.js`), loaded from the connector's own files so that the
 * pool can be a subclass (see {@link MariaDbIamPool}).
 */
export interface MariaDbPoolParts {
  PoolOptions: new (config: Record<string, unknown>) => MariaDbPoolOptionsLike
  Pool: new (options: MariaDbPoolOptionsLike) => BasePool
  ConnectionPromise: new (conn: BaseConnection) => PoolConnectionLike
}

const STAMP = Symbol('rds-iam.creation-epoch')
type StampedOnError = ((err: unknown) => void) & { [STAMP]?: { epoch: number } }

const OVERRIDDEN = [
  '_shouldCreateMoreConnections',
  '_initiateConnectionCreation',
  '_onConnectionCreationSuccess',
  '_createPoolConnection',
  '_onConnectionCreationError',
  '_scheduleRetryWithBackoff',
  'taskQueueSize',
  'idleConnections',
] as const

interface Waiter {
  reject(err: unknown): void
  settled: boolean
}

/** What each physical connection learns about its TLS session before the token may be sent. */
interface TlsState {
  verified: boolean
}

// How long a final RDS_IAM_AUTH_FAILED is handed to new callers before a new round of logins.
const GAVE_UP_MS = 1000

const BINDING_HINT = `pin the mariadb connector to ${SUPPORTED_MARIADB_CONNECTOR_VERSIONS} (the version @prisma/adapter-mariadb 7.10 pins and this adapter is tested with), or report the connector version you use`

/**
 * A mariadb pool whose every physical connection logs in with a current IAM token, shaped like a
 * pool for `PrismaMariaDb` (it accepts any object with `getConnection`).
 *
 * The connector has no password callback, but it calls the `stream` option once per physical
 * connection as a method of that connection's own copy of the options (`this`), before it opens
 * the socket, and its auth plugins read `this.password` from that copy during the handshake.
 * `stream` therefore sets the copy's password to the current token (non-enumerable, so
 * `util.inspect` of a connection does not print it) and opens the socket itself.
 *
 * The pool is a subclass of the connector's own (`lib/pool.js`, wrapped as `mariadb.createPool()`
 * wraps it) that overrides four of its methods:
 * - when to open a connection: the connector opens one only while fewer than `minimumIdle` are
 *   idle (`0` never opens one, `1` keeps a spare login open beside every connection handed out);
 *   here also whenever callers wait that no idle connection will serve, so connections open on
 *   demand and `minimumIdle` (default 0) is only the user's spare count;
 * - how: each new connection first passes core's `prepare()` (the per-endpoint
 *   `maxNewConnectionsPerSecond` limiter, then the token cache) before the connector creates it
 *   and starts its `connectTimeout`; `stream()` then takes the token with `nextToken()`;
 * - how long to wait after a failed creation: core's retry policy (`iam.retry`: the first retry
 *   at once, then exponential backoff with jitter) instead of the connector's 200 ms × failures.
 *
 * The pool's `error` event invalidates the token on an authentication failure (the next attempt
 * signs anew), and after `iam.retry.maxAttempts` refused logins in a row per waiting caller
 * (concurrent refusals of one token count once) the callers waiting for a connection get
 * `RDS_IAM_AUTH_FAILED` at once, and the pool stops logging in until a new
 * `getConnection()` arrives (after a short pause), which starts a new round of at most
 * `maxAttempts` logins.
 */
export class MariaDbIamPool {
  readonly #pool: BasePool
  readonly #ConnectionPromise: MariaDbPoolParts['ConnectionPromise']
  readonly #auth: ConnectionAuth
  readonly #iam: IamOptions
  readonly #waiters = new Set<Waiter>()
  #refusedInRow = 0
  // Logins started since the last accepted one or the last give-up: never more than the budget.
  #loginsInRound = 0
  // Failed connection creations in a row (any cause), for the backoff between them.
  #failedInRow = 0
  #gaveUp: RdsIamError | undefined
  #gaveUpAt = 0
  #closed = false
  // Connections being created (each from its limiter permit to its login's end).
  #creating = 0
  // Invalidations after refusals so far; a failed creation whose token predates the last one needs none.
  #epoch = 0
  #failedEpoch: number | undefined
  // Sockets of logins in progress: end() closes them, so no login completes after the pool ended.
  readonly #opening = new Set<Socket>()

  constructor(
    parts: MariaDbPoolParts,
    config: Record<string, unknown>,
    auth: ConnectionAuth,
    iam: IamOptions,
    tls: false | ConnectionOptions,
  ) {
    this.#auth = auth
    this.#iam = iam
    this.#ConnectionPromise = parts.ConnectionPromise
    const self = this
    // A plain function: the connector calls it as `opts.stream(cb)`, so `this` is the options copy
    // of the one connection being opened. An arrow function would lose that.
    function stream(this: unknown, callback: (err: Error | null, socket?: Socket) => void): undefined {
      self.#openStream(this, tls, callback)
      return undefined
    }
    const proto = parts.Pool.prototype as Record<string, unknown>
    if (!OVERRIDDEN.every((name) => typeof proto[name] === 'function')) {
      throw new RdsIamError(
        'RDS_IAM_UNSUPPORTED_DRIVER',
        'this mariadb connector version does not have the pool methods PrismaMariaDbIam opens connections through',
        BINDING_HINT,
      )
    }
    const retry = iam.retry
    class IamPool extends parts.Pool {
      // The connector's rule is "open one, one at a time, while fewer than minimumIdle are idle".
      // Here: one per waiting caller that no idle or opening connection will serve (several at
      // once, as pg does), or up to the user's minimumIdle (0 by default), within connectionLimit.
      override _shouldCreateMoreConnections(): boolean {
        if (self.#closed || self.#gaveUp) return false
        // A round of refused logins spends at most the waiting callers' budget, in-flight ones included.
        if (self.#loginsInRound >= self.#budget()) return false
        const creating = self.#creating
        if (this.totalConnections() + creating >= this.opts.connectionLimit) return false
        const idle = this.idleConnections()
        // Demand is the callers still waiting here: a request whose caller already got a typed
        // error stays queued in the connector until acquireTimeout, and must not log in again.
        if (self.#waiters.size > idle + creating) return true
        return idle + creating < this.opts.minimumIdle
      }

      override _initiateConnectionCreation(timeoutEnd: number): void {
        self.#creating += 1
        super._initiateConnectionCreation(timeoutEnd)
      }

      override _onConnectionCreationSuccess(): void {
        self.#creating = Math.max(0, self.#creating - 1)
        super._onConnectionCreationSuccess()
      }

      override _createPoolConnection(
        onSuccess: unknown,
        onError: (err: unknown) => void,
        timeoutEnd: number,
      ): void {
        // One logical creation (the connector retries it through here): its failure is stamped
        // with the refusal epoch its token came from, read by the pool's 'error' listener.
        let stamp = (onError as StampedOnError)[STAMP]
        if (!stamp) {
          const holder = { epoch: self.#epoch }
          const inner = onError
          stamp = holder
          onError = Object.assign(
            (err: unknown) => {
              self.#failedEpoch = holder.epoch
              inner(err)
            },
            { [STAMP]: holder },
          )
        }
        if (self.#gaveUp) {
          onError(self.#gaveUp)
          return
        }
        const holder = stamp
        // The limiter and the token cache first: the connector's connectTimeout starts with the
        // connection, and a wait for a permit or for credentials must not count against it.
        self.#auth.prepare().then(
          () => {
            holder.epoch = self.#epoch
            if (self.#closed) onError(new Error('the pool is closed'))
            else super._createPoolConnection(onSuccess, onError, timeoutEnd)
          },
          (err: unknown) => {
            self.#failWaiters(err)
            onError(err)
          },
        )
      }

      override _onConnectionCreationError(err: unknown, timeoutEnd: number): void {
        self.#creating = Math.max(0, self.#creating - 1)
        self.#failedInRow += 1
        super._onConnectionCreationError(err, timeoutEnd)
      }

      override _scheduleRetryWithBackoff(delay: number): void {
        const wait = backoffMs(self.#failedInRow, retry?.baseDelayMs ?? 100, retry?.maxDelayMs ?? 2000)
        super._scheduleRetryWithBackoff(Math.min(delay, wait))
      }
    }
    const pool = new IamPool(new parts.PoolOptions({ ...config, stream }))
    this.#pool = pool
    // createPool() adds an error listener too: an 'error' event with no listener ends the process.
    pool.on('error', (err: unknown) => this.#onPoolError(err))
    pool.on('connection', () => {
      this.#refusedInRow = 0
      this.#loginsInRound = 0
      this.#failedInRow = 0
    })
  }

  /** The token provider of this pool (for `stats()` and `invalidate()`). */
  get provider(): TokenProvider {
    return this.#auth.provider
  }

  /**
   * A pooled connection: an idle one, or a new one opened for this caller after the limiter, with
   * the token already cached when the connector's `connectTimeout` (1 s by default) starts.
   */
  async getConnection(): Promise<PoolConnectionLike> {
    // Right after giving up, a new caller gets the same answer without more refused logins:
    // PrismaMariaDb's version probe fails, and the query that follows it at once would log in
    // again. Later callers start a new round of at most maxAttempts logins, so logins stay within
    // callers × maxAttempts and the pool recovers without a restart.
    if (this.#gaveUp && performance.now() - this.#gaveUpAt < GAVE_UP_MS) throw this.#gaveUp
    this.#gaveUp = undefined
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { reject, settled: false }
      this.#waiters.add(waiter)
      this.#pool.getConnection({}, (err, baseConn) => {
        this.#waiters.delete(waiter)
        if (err || !baseConn) {
          if (waiter.settled) return
          waiter.settled = true
          reject(this.#typed(err))
          return
        }
        // What mariadb's PoolPromise hands out for a pooled connection.
        const conn = new this.#ConnectionPromise(baseConn)
        const release = () => new Promise<void>((done) => baseConn.release(done))
        Object.assign(conn, { release, end: release, close: release })
        // A caller that already got a typed error gets nothing; the connection goes back.
        if (waiter.settled) void release().catch(() => {})
        else {
          waiter.settled = true
          resolve(conn)
        }
      })
    })
  }

  /** `pool.query` through {@link getConnection}, so it gets the same token handling. */
  async query(sql: unknown, values?: unknown): Promise<unknown> {
    return this.#withConnection((conn) => conn.query(sql, values))
  }

  /** `pool.execute` through {@link getConnection}. */
  async execute(sql: unknown, values?: unknown): Promise<unknown> {
    return this.#withConnection((conn) => conn.execute(sql, values))
  }

  /** Ends the pool (idle connections close; waiting callers are refused by the connector). */
  async end(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const socket of this.#opening) setImmediate(() => socket.destroy())
    await this.#pool.end()
  }

  /** The connector's pool, for its own events and counters (`totalConnections()`, …). */
  get pool(): Pick<
    BasePool,
    'on' | 'idleConnections' | 'totalConnections' | 'activeConnections' | 'taskQueueSize'
  > {
    return this.#pool
  }

  async #withConnection<T>(fn: (conn: PoolConnectionLike) => Promise<T>): Promise<T> {
    const conn = await this.getConnection()
    try {
      return await fn(conn)
    } finally {
      await Promise.resolve(conn.release()).catch(() => {})
    }
  }

  #openStream(
    opts: unknown,
    tls: false | ConnectionOptions,
    callback: (err: Error | null, socket?: Socket) => void,
  ): void {
    if (!isConnectionOptions(opts)) {
      // The connector stopped calling stream() on the connection's options: without that copy
      // there is no per-connection place for the token. Fail loudly instead of logging in wrong.
      callback(
        new RdsIamError(
          'RDS_IAM_UNSUPPORTED_DRIVER',
          'this mariadb connector version does not hand stream() the connection options, so IAM tokens cannot be set per connection',
          BINDING_HINT,
        ),
      )
      return
    }
    if (this.#closed) {
      callback(new Error('the pool is closed'))
      return
    }
    if (this.#gaveUp) {
      // Callers were told the login is refused; logging in again now would only add refusals.
      callback(this.#gaveUp)
      return
    }
    // Before any packet: this connection's packet log (if any) never shows its login.
    guardNetworkLog(opts)
    const started = Date.now()
    const connectTimeout = Number(opts.connectTimeout) || 0
    this.#auth.nextToken().then(
      (token) => {
        // The connector gave this connection up (connectTimeout) while the limiter held it: a
        // socket now would log in for nobody and stay open.
        if (connectTimeout > 0 && Date.now() - started >= connectTimeout) {
          callback(new Error('connect timeout reached while waiting for the new-connection limiter'))
          return
        }
        // No TLS, or TLS without verification, reaches here only with iam.insecure (resolveTls
        // refuses both otherwise): the user allowed an unverified server, so nothing is awaited.
        // Node calls checkServerIdentity only after the chain verified, so with
        // rejectUnauthorized: false and an untrusted CA the guard below would never pass.
        const state: TlsState = {
          verified: tls === false || (this.#iam.insecure === true && tls.rejectUnauthorized === false),
        }
        this.#loginsInRound += 1
        const socket = netConnect(Number(opts.port), String(opts.host))
        socket.setNoDelay(true)
        this.#opening.add(socket)
        const settled = () => this.#opening.delete(socket)
        socket.once('close', settled)
        if (tls !== false) opts.ssl = guardTls(tls, state)
        Object.defineProperty(opts, 'password', {
          configurable: true,
          enumerable: false,
          get: () => {
            if (this.#closed) {
              setImmediate(() => socket.destroy())
              return ''
            }
            if (state.verified) {
              settled()
              return token
            }
            // Read during the handshake, after the TLS upgrade. For MariaDB servers the connector
            // turns certificate checks off and compares fingerprints only after the password was
            // sent; a token must not leave before the chain and the host name were verified.
            this.#failWaiters(
              new RdsIamError(
                'RDS_IAM_INSECURE_TRANSPORT',
                'the server certificate could not be verified (chain or host name), so the IAM token was not sent',
                'connect to the RDS endpoint name with the RDS CA bundle (the default ssl), or pass ssl: { ca } naming the CA of your server; for local testing only, set iam: { insecure: true }',
              ),
            )
            // Destroying the socket under the TLS layer from inside its callback crashes Node
            // (SIGSEGV); close it once that callback returned. Until then the server gets an empty
            // password, never the token.
            setImmediate(() => socket.destroy())
            return ''
          },
        })
        callback(null, socket)
      },
      (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err))
        this.#failWaiters(error)
        callback(error)
      },
    )
  }

  /** Logins owed to the callers waiting now: `maxAttempts` each, as each pg connect gets. */
  #budget(): number {
    return Math.max(1, this.#iam.retry?.maxAttempts ?? 3) * Math.max(1, this.#waiters.size)
  }

  #onPoolError(err: unknown): void {
    if (this.#closed) return
    if (!isAuthError(err)) {
      // A round that spent its budget and has nothing in flight ends with the last refusal's verdict.
      if (this.#refusedInRow > 0 && this.#loginsInRound >= this.#budget() && this.#creating === 0)
        this.#giveUp(err)
      return
    }
    // Logins opened at once share one token: when it is refused, the others' refusals of the same
    // token need no second invalidation (it would throw away the token signed after the first).
    const stale = this.#failedEpoch !== undefined && this.#failedEpoch < this.#epoch
    this.#failedEpoch = undefined
    if (!stale) {
      this.#epoch += 1
      this.#auth.provider.invalidate()
    }
    this.#refusedInRow += 1
    // Each waiting caller is owed maxAttempts logins, as each pg connect gets its own: with N
    // callers waiting, N × maxAttempts refusals in a row (and no login accepted) end the round, so
    // one caller's budget is not spent by refusals that landed on logins opened for others. The
    // pool retries after the backoff; its next connection signs a new token in stream().
    if (
      this.#refusedInRow < this.#budget() &&
      !(this.#loginsInRound >= this.#budget() && this.#creating === 0)
    )
      return
    this.#giveUp(err)
  }

  #giveUp(err: unknown): void {
    const maxAttempts = Math.max(1, this.#iam.retry?.maxAttempts ?? 3)
    this.#refusedInRow = 0
    this.#loginsInRound = 0
    this.#gaveUp = this.#authFailed(err, maxAttempts)
    this.#gaveUpAt = performance.now()
    this.#failWaiters(this.#gaveUp)
  }

  #typed(err: unknown): unknown {
    if (isRdsIamError(err)) return err
    if (isAuthError(err)) return this.#authFailed(err, undefined)
    return err
  }

  #authFailed(err: unknown, attempts: number | undefined): RdsIamError {
    const target = this.#auth.provider.target
    const who = `${this.#auth.username}@${this.#auth.hostname}:${this.#auth.port}`
    return new RdsIamError(
      'RDS_IAM_AUTH_FAILED',
      `IAM authentication to ${who} failed${attempts ? ` after ${attempts} attempts` : ''}`,
      authFailureHint(target),
      { cause: loginError(err) },
    )
  }

  #failWaiters(err: unknown): void {
    for (const waiter of this.#waiters) {
      if (waiter.settled) continue
      waiter.settled = true
      waiter.reject(err)
    }
    this.#waiters.clear()
  }
}

/** The driver's own login error (1045) inside the pool's wrappers, for `cause`. */
function loginError(err: unknown): unknown {
  let current = err
  for (let depth = 0; depth < 8; depth++) {
    const rec = current as { errno?: unknown; cause?: unknown } | undefined
    if (!rec || typeof rec !== 'object') break
    if (rec.errno === 1045 || rec.errno === 1698) return rec
    current = rec.cause
  }
  return err
}

/**
 * The wait after `failures` failed creations in a row, with core's retry policy (`iam.retry`):
 * the first retry at once (a token that aged out in flight is re-signed in under a millisecond),
 * then exponential backoff with full jitter, capped.
 */
function backoffMs(failures: number, base: number, cap: number): number {
  if (failures <= 1) return 0
  return Math.floor(Math.random() * Math.min(cap, base * 2 ** (failures - 2)))
}

function isConnectionOptions(
  value: unknown,
): value is Record<string, unknown> & { host: unknown; port: unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { host?: unknown }).host === 'string' &&
    (value as { port?: unknown }).port !== undefined
  )
}

/** The connection's TLS options with a host-name check that records success for the password guard. */
function guardTls(tls: ConnectionOptions, state: TlsState): ConnectionOptions {
  const check = tls.checkServerIdentity ?? tlsCheckServerIdentity
  return {
    ...tls,
    // Node calls this only after the certificate chain verified; its result decides `authorized`.
    checkServerIdentity: (host: string, cert: PeerCertificate) => {
      const error = check(host, cert)
      if (error === undefined) state.verified = true
      return error
    },
  }
}

// Commands whose outgoing packets carry only what the application sent (SQL, parameters, pings).
// Every other command's packets may carry the token or a hash of it: the handshake response (it
// holds the password when the server's default plugin is mysql_clear_password), each auth plugin's
// answer (ClearPasswordAuth is the token itself), ChangeUser. A command the connector adds later,
// or a name a bundler minified, is not on the list either: unknown means not dumped.
const DUMPABLE_COMMANDS = new Set([
  'Query',
  'Execute',
  'ExecuteStream',
  'Prepare',
  'ClosePrepare',
  'BatchBulk',
  'Stream',
  'Ping',
  'Reset',
  'Quit',
])
// The first line of an outgoing dump (lib/io/packet-output-stream.js, compression-output-stream.js):
// `==> conn:12 Query(0,27)` or `==> conn:-1 ClearPasswordAuth(0,1034=>612) (compress)`.
const OUTGOING_HEADER = /^==> conn:-?\d+ ([\w$]+)\([\d,=>]+\)(?: \(compress\))?$/
const NOT_DUMPED = '[rds-iam: not dumped, it may carry the IAM token]'

/**
 * The connector's packet log (`debug: true`, `debugCompress`, `logger.network`, `logger` as a
 * function, or `conn.debug(fn)` later) hex-dumps every packet written, and the login packets carry
 * the token. The connection's own options copy gets its own logger whose `network` hands the
 * connector a filter in front of whatever function is set, now or later: packets received pass
 * (the server never sends the token), packets of the commands above pass, and any other outgoing
 * dump is replaced by its header line and a note. The logger object is this connection's own, so a
 * `conn.debug(fn)` on one connection no longer rewires the logins of the pool's other connections.
 */
function guardNetworkLog(opts: Record<string, unknown>): void {
  const logger = opts.logger
  if (logger === null || typeof logger !== 'object') return
  let filtered: unknown
  const set = (value: unknown) => {
    filtered =
      typeof value === 'function' ? filterNetworkLog(value as (...args: unknown[]) => unknown) : value
  }
  set((logger as { network?: unknown }).network)
  const own = { ...(logger as Record<string, unknown>) }
  Object.defineProperty(own, 'network', {
    configurable: true,
    enumerable: true,
    get: () => filtered,
    set,
  })
  opts.logger = own
}

function filterNetworkLog(network: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  return function (this: unknown, message: unknown, ...rest: unknown[]) {
    if (typeof message === 'string') {
      if (message.startsWith('<== ')) return network.call(this, message, ...rest)
      const header = message.split('\n', 1)[0] ?? ''
      const match = OUTGOING_HEADER.exec(header)
      if (match && DUMPABLE_COMMANDS.has(match[1]!)) return network.call(this, message, ...rest)
      if (match) return network.call(this, `${header} ${NOT_DUMPED}`)
    }
    return network.call(this, `==> ${NOT_DUMPED}`)
  }
}
