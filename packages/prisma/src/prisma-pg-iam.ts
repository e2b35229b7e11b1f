import { RdsIamError, type TokenProvider } from '@rds-iam/core'
import {
  createPoolClass,
  type IamPgConfig,
  type PgModuleLike,
  getTokenProvider as poolProvider,
} from '@rds-iam/pg'
import type { Pool as PgPool, PoolConfig } from 'pg'
import { wrapAdapter } from './adapter-wrapper.js'
import type { PrismaDriverAdapter, PrismaDriverAdapterFactory, SqlAdapterLike } from './internal-types.js'
import { loadAdapterPg } from './prisma-peers.js'
import { rememberHolder } from './token-provider-registry.js'

/**
 * A pg `PoolConfig` with `iam`: pg's usual fields (`host`, `port`, `user`, `database`, `max`,
 * `connectionTimeoutMillis`, `ssl`, …) or a `connectionString` without a password. `iam` defaults
 * to `true`. No `password`: the IAM token is the password.
 */
export type PrismaPgIamConfig = Omit<PoolConfig, 'password' | 'ssl' | 'port'> & IamPgConfig

/**
 * `@prisma/adapter-pg`'s own options (`schema`, `onPoolError`, `onConnectionError`,
 * `statementNameGenerator`, `userDefinedTypeParser`). There is deliberately no way to choose the
 * `pg` module: the pool is always built on the copy `@prisma/adapter-pg` resolves, the only one
 * whose pools `PrismaPg` recognises.
 */
export interface PrismaPgIamOptions {
  /** The PostgreSQL schema to use in generated queries (as in `PrismaPg`). */
  schema?: string
  /** Called on errors of idle pool clients (as in `PrismaPg`). */
  onPoolError?: (err: Error) => void
  /** Called on errors of a connection held by a transaction (as in `PrismaPg`). */
  onConnectionError?: (err: Error) => void
  /** Any other `PrismaPg` option, passed through unchanged. */
  [option: string]: unknown
}

/**
 * A Prisma 7 driver adapter for PostgreSQL with IAM authentication: `@prisma/adapter-pg` over an
 * `@rds-iam/pg` pool, so every new physical connection gets a current token (cached, refreshed
 * ahead of expiry), refused logins are retried with a fresh token, and TLS is verified against the
 * RDS CA bundle. The config is checked here, before any network traffic.
 *
 * @example
 * ```ts
 * import { PrismaPgIam } from '@rds-iam/prisma'
 * const prisma = new PrismaClient({
 *   adapter: new PrismaPgIam({ host: 'db.abc.eu-west-1.rds.amazonaws.com', user: 'app', database: 'app', iam: true }),
 * })
 * ```
 */
export class PrismaPgIam implements PrismaDriverAdapterFactory {
  readonly provider = 'postgres'
  readonly adapterName = '@rds-iam/prisma (pg)'
  readonly #config: Record<string, unknown>
  readonly #options: Record<string, unknown>
  readonly #pg: PgModuleLike
  #pool: PgPool | undefined
  #provider: TokenProvider

  /**
   * @param config pg pool config with `iam`, or a `postgres://user@host:5432/db` URL (no password)
   * @param options `PrismaPg` options
   */
  constructor(config: PrismaPgIamConfig | string, options: PrismaPgIamOptions = {}) {
    const input =
      typeof config === 'string'
        ? { connectionString: config }
        : config !== null && typeof config === 'object' && !Array.isArray(config)
          ? config
          : undefined
    if (!input) {
      throw new RdsIamError(
        'RDS_IAM_INVALID_OPTIONS',
        'PrismaPgIam needs a pg config object or a postgres:// URL',
        'pass { host, user, database, iam: true } or "postgres://user@host:5432/db"',
      )
    }
    const url = (input as { connectionString?: unknown }).connectionString
    if (
      typeof url === 'string' &&
      /^[a-z][a-z0-9+.-]*:\/\//i.test(url) &&
      !/^postgres(ql)?:\/\//i.test(url)
    ) {
      throw new RdsIamError(
        'RDS_IAM_INVALID_OPTIONS',
        `PrismaPgIam takes postgres:// or postgresql:// URLs, not ${url.slice(0, url.indexOf(':'))}://`,
        /^(mysql|mariadb):/i.test(url)
          ? 'use PrismaMariaDbIam for MySQL and MariaDB'
          : 'pass a URL like postgres://user@host:5432/db',
      )
    }
    this.#pg = loadAdapterPg().pg
    const fields = input as Record<string, unknown>
    this.#config = { ...fields, iam: fields.iam ?? true }
    this.#options = { ...options }
    // Built now so a bad config fails at `new PrismaPgIam(...)`; pg opens nothing until a query.
    this.#pool = this.#newPool()
    this.#provider = poolProvider(this.#pool)!
    rememberHolder(this, { tokenProvider: () => this.#provider })
  }

  /** Called by Prisma on its first query (and again after `$disconnect()`). */
  async connect(): Promise<PrismaDriverAdapter> {
    return this.#adapterOn(this.#pool ?? this.#newPool(), 'connect')
  }

  /** Used by Prisma Migrate's shadow database; the shadow pool authenticates with IAM too. */
  async connectToShadowDb(): Promise<PrismaDriverAdapter> {
    return this.#adapterOn(this.#pool ?? this.#newPool(), 'connectToShadowDb')
  }

  /** The pool the current Prisma connection uses (for `pool.on(...)` or metrics). */
  get pool(): PgPool | undefined {
    return this.#pool
  }

  async #adapterOn(pool: PgPool, method: 'connect' | 'connectToShadowDb'): Promise<PrismaDriverAdapter> {
    this.#pool = pool
    const { PrismaPg } = loadAdapterPg()
    const factory = new PrismaPg(pool, { ...this.#options, disposeExternalPool: false })
    const adapter = await factory[method]!()
    // Prisma disposes the adapter on $disconnect(): ending the pool there closes idle connections,
    // so the process can exit; the next query after $disconnect() builds a new pool.
    return wrapAdapter(adapter as unknown as SqlAdapterLike, async () => {
      if (method === 'connect') {
        if (this.#pool === pool) this.#pool = undefined
        await pool.end().catch(() => {})
      }
    }) as unknown as PrismaDriverAdapter
  }

  #newPool(): PgPool {
    const Pool = createPoolClass(this.#pg)
    const pool = new Pool(this.#config as never)
    // An idle connection that dies (failover) is an 'error' event on the pool; PrismaPg listens
    // only from its connect() on, and an unheard 'error' event would end the process.
    pool.on('error', () => {})
    if (this.#provider) this.#provider = poolProvider(pool) ?? this.#provider
    return pool
  }
}
