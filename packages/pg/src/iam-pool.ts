import { type ConnectionAuth, type IamOptions, type TokenProvider, withAuthRetry } from '@rds-iam/core'
import type { Pool as PgPool, PoolClient, PoolConfig } from 'pg'
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
  const state = new WeakMap<
    object,
    { provider: TokenProvider; iam: IamOptions; auth: ConnectionAuth; preparing: number }
  >()

  class IamPool extends Base {
    constructor(config: IamPoolConfig) {
      if (config && typeof config === 'object' && 'Client' in config && config.Client)
        assertJsClient(config.Client)
      const prepared = prepareIamConfig(config, false)
      super(prepared.config)
      state.set(this, { provider: prepared.provider, iam: prepared.iam, auth: prepared.auth, preparing: 0 })
      rememberProvider(this, prepared.provider)
    }

    // pg-pool's query() acquires through this.connect(cb), so one override covers both.
    override connect(): Promise<PoolClient>
    override connect(callback: ConnectCallback): void
    override connect(callback?: ConnectCallback): Promise<PoolClient> | undefined {
      const own = state.get(this)!
      const { provider, iam } = own
      // A failed new connection is discarded by pg-pool, so each attempt opens a new Client.
      // The token is settled before pg-pool may open a socket: a hung or broken credential
      // source fails the caller with RDS_IAM_CREDENTIALS, and no server holds a half-open login.
      const acquire = withAuthRetry(
        async () => {
          await prepareConnection(this as unknown as PoolInternals, own)
          return super.connect()
        },
        provider,
        iam.retry,
      )
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

/** pg-pool's own bookkeeping (stable across pg 8.x); read only to predict whether connect() opens a socket. */
interface PoolInternals {
  ending?: boolean
  _idle?: unknown[]
  _clients?: unknown[]
  options?: { max?: number }
}

/**
 * Before `super.connect()`: a caller that will make pg-pool open a new connection takes a
 * limiter permit and warms the token (`auth.prepare()`); a caller that will get an idle client
 * or wait for one only warms the token (a cache hit in steady state), so 200 callers on a pool
 * of 10 spend 10 permits, not 200.
 */
async function prepareConnection(
  pool: PoolInternals,
  own: { provider: TokenProvider; auth: ConnectionAuth; preparing: number },
): Promise<void> {
  // An ending pool refuses the caller itself; no permit or signing for that.
  if (pool.ending) return
  const idle = pool._idle
  const clients = pool._clients
  const max = pool.options?.max
  const opens =
    Array.isArray(idle) &&
    Array.isArray(clients) &&
    typeof max === 'number' &&
    idle.length === 0 &&
    clients.length + own.preparing < max
  if (!opens) {
    await own.provider.getToken()
    return
  }
  own.preparing++
  try {
    await own.auth.prepare()
  } finally {
    own.preparing--
  }
}

/** The type of a pool made by {@link Pool} / {@link createPool}: a `pg.Pool`. */
export type Pool = PgPool
