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

/** The part of a mariadb pool used here. */
export interface MariaDbPoolLike {
  getConnection(): Promise<PoolConnectionLike>
  end(): Promise<void>
  on(event: string, listener: (...args: unknown[]) => void): unknown
  [key: string]: unknown
}

interface Waiter {
  reject(err: unknown): void
  settled: boolean
}

/** What each physical connection learns about its TLS session before the token may be sent. */
interface TlsState {
  verified: boolean
}

// How long a final RDS_IAM_AUTH_FAILED is handed to new callers before logging in again.
const GAVE_UP_MS = 5000

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
 * The connector's pool re-creates a refused connection with the same options until
 * `acquireTimeout`; here its `error` event invalidates the token on an authentication failure
 * (the next attempt signs anew), and after `iam.retry.maxAttempts` refused logins in a row the
 * callers waiting for a connection get `RDS_IAM_AUTH_FAILED` at once, and the pool stops logging
 * in until the next `getConnection()`.
 */
export class MariaDbIamPool {
  readonly #pool: MariaDbPoolLike
  readonly #auth: ConnectionAuth
  readonly #iam: IamOptions
  readonly #waiters = new Set<Waiter>()
  #refusedInRow = 0
  #gaveUp: RdsIamError | undefined
  #gaveUpAt = 0
  #closed = false
  // Sockets of logins in progress: end() closes them, so no login completes after the pool ended.
  readonly #opening = new Set<Socket>()

  constructor(
    createPool: (config: Record<string, unknown>) => MariaDbPoolLike,
    config: Record<string, unknown>,
    auth: ConnectionAuth,
    iam: IamOptions,
    tls: false | ConnectionOptions,
  ) {
    this.#auth = auth
    this.#iam = iam
    const self = this
    // A plain function: the connector calls it as `opts.stream(cb)`, so `this` is the options copy
    // of the one connection being opened. An arrow function would lose that.
    function stream(this: unknown, callback: (err: Error | null, socket?: Socket) => void): undefined {
      self.#openStream(this, tls, callback)
      return undefined
    }
    this.#pool = createPool({ ...config, stream })
    this.#pool.on('error', (err: unknown) => this.#onPoolError(err))
    this.#pool.on('connection', () => {
      this.#refusedInRow = 0
    })
  }

  /** The token provider of this pool (for `stats()` and `invalidate()`). */
  get provider(): TokenProvider {
    return this.#auth.provider
  }

  /**
   * A pooled connection. The token is fetched before the pool is asked, so it is cached when the
   * connector's `connectTimeout` (1 s by default) starts for a new connection.
   */
  async getConnection(): Promise<PoolConnectionLike> {
    // Right after giving up, a new caller gets the same answer without more refused logins
    // (PrismaMariaDb's version probe and the query that follows it would each log in again).
    if (this.#gaveUp && Date.now() - this.#gaveUpAt < GAVE_UP_MS) throw this.#gaveUp
    this.#gaveUp = undefined
    // A cache hit when the token is current; signing (or resolving credentials) happens here, not
    // inside a handshake. Only when a new connection may be needed, so queries are not throttled.
    if (idleCount(this.#pool) === 0) await this.#auth.provider.getToken()
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { reject, settled: false }
      this.#waiters.add(waiter)
      this.#pool.getConnection().then(
        (conn) => {
          this.#waiters.delete(waiter)
          // A caller that already got a typed error gets nothing; the connection goes back.
          if (waiter.settled) void Promise.resolve(conn.release()).catch(() => {})
          else {
            waiter.settled = true
            resolve(conn)
          }
        },
        (err: unknown) => {
          this.#waiters.delete(waiter)
          if (waiter.settled) return
          waiter.settled = true
          reject(this.#typed(err))
        },
      )
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
  get pool(): MariaDbPoolLike {
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
    this.#auth.nextToken().then(
      (token) => {
        const state: TlsState = { verified: tls === false }
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

  #onPoolError(err: unknown): void {
    if (this.#closed || !isAuthError(err)) return
    this.#auth.provider.invalidate()
    this.#refusedInRow += 1
    const maxAttempts = Math.max(1, this.#iam.retry?.maxAttempts ?? 3)
    // The pool retries after its own backoff; its next connection signs a new token in stream().
    if (this.#refusedInRow < maxAttempts) return
    this.#refusedInRow = 0
    this.#gaveUp = this.#authFailed(err, maxAttempts)
    this.#gaveUpAt = Date.now()
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

function idleCount(pool: MariaDbPoolLike): number {
  const idle = pool.idleConnections
  return typeof idle === 'function' ? Number(idle.call(pool)) || 0 : 0
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
