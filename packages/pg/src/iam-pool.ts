import { type ConnectionAuth, type IamOptions, type TokenProvider, withAuthRetry } from '@rds-iam/core'
import type { Pool as PgPool, PoolClient, PoolConfig } from 'pg'
import { explainConnectError } from './connect-errors.js'
import type { PgModuleLike } from './internal-types.js'
import { lazyPgClass } from './lazy-class.js'
import { assertJsClient, loadPg } from './pg-module.js'
import { type IamPgConfig, prepareIamConfig, rememberProvider } from './with-iam.js'

/** A pg `PoolConfig` with `iam` (required here: this pool exists to use IAM). */
export type IamPoolConfig = Omit<PoolConfig, 'password' | 'ssl' | 'port'> &
  IamPgConfig & { iam: IamPgConfig['iam'] }

/** Where to find pg; defaults to the copy the application installed. */
export interface PgInjection {
  /** The `pg` module to build on (e.g. `import pg from 'pg'`). Must be the JavaScript driver. */
  pg?: PgModuleLike
}

type PoolClass = new (config: IamPoolConfig) => PgPool
type ConnectCallback = (
  err: Error | undefined,
  client: PoolClient | undefined,
  release: (err?: unknown) => void,
) => void
const poolClasses = new WeakMap<PgModuleLike, PoolClass>()

/**
 * The IAM pool class for a given `pg` module: a real subclass of that module's `Pool`, so
 * `instanceof pg.Pool` holds (Prisma's `PrismaPg` relies on it). `connect()` and `query()` retry
 * authentication failures with a fresh token; other errors are never retried.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * const IamPool = createPoolClass(pg)
 * const pool = new IamPool({ host, user: 'app', iam: true })
 * ```
 */
export function createPoolClass(pg: PgModuleLike): PoolClass {
  const existing = poolClasses.get(pg)
  if (existing) return existing
  assertJsClient(pg.Client)
  const Base = pg.Pool as unknown as new (config: object) => PgPool
  const state = new WeakMap<object, PoolState>()

  class IamPool extends Base {
    constructor(config: IamPoolConfig) {
      if (config && typeof config === 'object' && 'Client' in config && config.Client)
        assertJsClient(config.Client)
      const prepared = prepareIamConfig(config, false)
      super(prepared.config)
      const own: PoolState = {
        provider: prepared.provider,
        iam: prepared.iam,
        auth: prepared.auth,
        preparing: 0,
        waiting: [],
        warming: false,
        warmPausedUntil: 0,
      }
      state.set(this, own)
      rememberProvider(this, prepared.provider)
      // A released client may serve a caller parked behind in-flight preparations, and a removed
      // one frees a slot; pg-pool finishes its bookkeeping first, hence the next tick.
      const nudge = (): void => {
        if (own.waiting.length > 0) process.nextTick(wakeWaiting, own)
      }
      this.on('release', nudge)
      this.on('remove', nudge)
    }

    // pg-pool's query() acquires through this.connect(cb), so one override covers both.
    override connect(): Promise<PoolClient>
    override connect(callback: ConnectCallback): void
    override connect(callback?: ConnectCallback): Promise<PoolClient> | undefined {
      const own = state.get(this)!
      const { provider, iam, auth } = own
      // A failed new connection is discarded by pg-pool, so each attempt opens a new Client.
      // Only an attempt that makes pg-pool open a socket waits for the token (see acquireOnce).
      const acquire = withAuthRetry(
        () => acquireOnce(this as unknown as PoolInternals, own, () => super.connect()),
        provider,
        iam.retry,
      ).catch((err: unknown) => {
        throw explainConnectError(err, auth)
      })
      if (typeof callback !== 'function') return acquire
      acquire.then(
        (client) =>
          process.nextTick(callback, undefined, client, (err?: unknown) => client.release(err as Error)),
        (err: Error) => process.nextTick(callback, err, undefined, noop),
      )
      return undefined
    }
  }
  poolClasses.set(pg, IamPool as unknown as PoolClass)
  return IamPool as unknown as PoolClass
}

/**
 * Creates an IAM pool on the application's `pg` (or the one injected).
 *
 * @example
 * ```ts
 * const pool = createPool({ host: 'db.abc.eu-west-1.rds.amazonaws.com', user: 'app', database: 'app', iam: true })
 * await pool.query('select 1')
 * ```
 */
export function createPool(config: IamPoolConfig, injection: PgInjection = {}): PgPool {
  return new (createPoolClass(injection.pg ?? loadPg()))(config)
}

/**
 * `pg.Pool` with IAM authentication: pass pg's usual config plus `iam: true`. Instances are real
 * `pg.Pool` instances of the application's pg (loaded on first use). To build on another copy of
 * pg, use {@link createPool} with `{ pg }` or {@link createPoolClass}.
 *
 * @example
 * ```ts
 * import { Pool } from '@rds-iam/pg'
 * const pool = new Pool({ host: 'db.abc.eu-west-1.rds.amazonaws.com', user: 'app', database: 'app', iam: true })
 * const { rows } = await pool.query('select now()')
 * ```
 */
export const Pool: PoolClass = lazyPgClass('Pool', createPoolClass)

function noop(): void {}

interface PoolState {
  provider: TokenProvider
  iam: IamOptions
  auth: ConnectionAuth
  /** Callers preparing a connection pg-pool will open once they are done: slots already spoken for. */
  preparing: number
  /** Callers that found every free slot spoken for by a preparation; re-planned when one settles. */
  waiting: (() => void)[]
  /** A background read of the token (see warmToken) is running. */
  warming: boolean
  /** After a failed background read, none until then (performance.now() ms). */
  warmPausedUntil: number
}

// Like core's pause after a failed background refresh: a broken credential source is not asked
// again by every query a warm pool serves.
const WARM_PAUSE_MS = 5_000

/** pg-pool's own bookkeeping (stable across pg 8.x); read only to predict whether connect() opens a socket. */
interface PoolInternals {
  ending?: boolean
  _idle?: unknown[]
  _clients?: unknown[]
  options?: { max?: number }
}

/**
 * What pg-pool's connect() would do if called now, counting slots taken by callers still
 * preparing: `acquire` (an idle client, a full pool's wait queue, or an ending pool's refusal:
 * no socket), `open` (a new connection), `wait` (only slots spoken for are left).
 */
function plan(pool: PoolInternals, own: PoolState): 'acquire' | 'open' | 'wait' {
  if (pool.ending) return 'acquire'
  const idle = pool._idle
  const clients = pool._clients
  const max = pool.options?.max
  // Internals this version does not know: prepare, so a socket never opens without a token.
  if (!Array.isArray(idle) || !Array.isArray(clients) || typeof max !== 'number') return 'open'
  if (idle.length > 0 || clients.length >= max) return 'acquire'
  return clients.length + own.preparing < max ? 'open' : 'wait'
}

/**
 * One acquisition. Only a caller for whom pg-pool will open a connection waits for the limiter
 * permit and the token (`auth.prepare()`), so a hung or broken credential source fails it with
 * RDS_IAM_CREDENTIALS before any socket opens. A caller that gets an idle client, or queues in a
 * full pool for a release, goes to pg-pool at once and never waits on signing: a warm pool keeps
 * serving while the credential source is down. 200 callers on a pool of 10 spend 10 permits.
 */
function acquireOnce(
  pool: PoolInternals,
  own: PoolState,
  connect: () => Promise<PoolClient>,
): Promise<PoolClient> {
  return new Promise((resolve, reject) => {
    // Also called from a settled preparation or a wake-up, outside this executor: a synchronous
    // throw must still reach the caller (and not stop the other wake-ups).
    const handOver = (): void => {
      try {
        connect().then(resolve, reject)
      } catch (err) {
        reject(err)
      }
    }
    const attempt = (): void => {
      const next = plan(pool, own)
      if (next === 'wait') {
        own.waiting.push(attempt)
        return
      }
      if (next === 'acquire') {
        warmToken(own)
        handOver()
        return
      }
      own.preparing++
      own.auth.prepare().then(
        () => {
          // Released and connected in one step, so no one re-planning in between sees the slot free.
          own.preparing--
          handOver()
          wakeWaiting(own)
        },
        (err: unknown) => {
          own.preparing--
          reject(err)
          wakeWaiting(own)
        },
      )
    }
    attempt()
  })
}

/**
 * Reads the token without anyone waiting for it: the read is what lets the provider refresh an
 * aging token ahead of expiry (single-flight), so the pool's next new connection finds it warm.
 */
function warmToken(own: PoolState): void {
  if (own.warming || performance.now() < own.warmPausedUntil) return
  own.warming = true
  own.provider.getToken().then(
    () => {
      own.warming = false
    },
    () => {
      own.warming = false
      own.warmPausedUntil = performance.now() + WARM_PAUSE_MS
    },
  )
}

function wakeWaiting(own: PoolState): void {
  for (const attempt of own.waiting.splice(0)) attempt()
}

/** The type of a pool made by {@link Pool} / {@link createPool}: a `pg.Pool`. */
export type Pool = PgPool
