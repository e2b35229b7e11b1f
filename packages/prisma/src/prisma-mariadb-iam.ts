import type { ConnectionOptions } from 'node:tls'
import {
  createConnectionAuth,
  type IamOption,
  normalizeIamOptions,
  RdsIamError,
  resolveTls,
} from '@rds-iam/core'
import { wrapAdapter } from './adapter-wrapper.js'
import type { PrismaDriverAdapter, PrismaDriverAdapterFactory, SqlAdapterLike } from './internal-types.js'
import { MariaDbIamPool } from './mariadb-iam-pool.js'
import { loadAdapterMariaDb } from './prisma-peers.js'
import { rememberHolder } from './token-provider-registry.js'

/**
 * A `mariadb` pool config with `iam` (defaults to `true`): `host`, `port`, `user`, `database`,
 * `ssl`, `connectionLimit`, `acquireTimeout`, `connectTimeout`, `minimumIdle`, … No `password`
 * (the token is the password) and no `stream` (this adapter uses it).
 */
export interface PrismaMariaDbIamConfig {
  /**
   * A `mysql://user@host:3306/db` (or `mariadb://`) URL without a password, as the string form
   * takes it, so that it can go with `iam` and pool options: `{ url, iam: { region } }`. A setting
   * may come from the URL or from a key beside it, not both.
   */
  url?: string
  host?: string
  port?: number
  user?: string
  database?: string
  /** Default: verified TLS against the RDS CA bundle. An object is checked (chain and host name). */
  ssl?: boolean | ConnectionOptions
  iam?: IamOption
  /** Pool size (mariadb default 10). */
  connectionLimit?: number
  /**
   * Connections kept open when idle. Default 0 here (mariadb's own default is `connectionLimit`):
   * the pool opens a connection when a caller needs one and keeps no spare login open.
   */
  minimumIdle?: number
  /** Any other mariadb pool option, passed through unchanged. */
  [option: string]: unknown
}

/** `@prisma/adapter-mariadb`'s own options (`database`, `onConnectionError`, `useTextProtocol`). */
export interface PrismaMariaDbIamOptions {
  /** The database (schema) name Prisma reports for generated queries (as in `PrismaMariaDb`). */
  database?: string
  /** Called on errors of a connection held by a transaction (as in `PrismaMariaDb`). */
  onConnectionError?: (err: Error) => void
  /** Any other `PrismaMariaDb` option, passed through unchanged. */
  [option: string]: unknown
}

const MYSQL_SCHEMES = new Set(['mysql:', 'mariadb:'])
const NUMERIC = /^\d+$/

/**
 * A Prisma 7 driver adapter for MySQL / MariaDB (RDS, Aurora MySQL) with IAM authentication:
 * `@prisma/adapter-mariadb` over a mariadb pool whose every physical connection logs in with a
 * current token, verified TLS (RDS CA bundle, chain and host name checked before the token is
 * sent), refused logins retried with a fresh token and a typed `RDS_IAM_AUTH_FAILED` after the last.
 *
 * @example
 * ```ts
 * import { PrismaMariaDbIam } from '@rds-iam/prisma'
 * const prisma = new PrismaClient({
 *   adapter: new PrismaMariaDbIam({ host: 'db.abc.eu-west-1.rds.amazonaws.com', user: 'app', database: 'app', iam: true }),
 * })
 * ```
 */
export class PrismaMariaDbIam implements PrismaDriverAdapterFactory {
  readonly provider = 'mysql'
  readonly adapterName = '@rds-iam/prisma (mariadb)'
  readonly #build: () => MariaDbIamPool
  readonly #options: Record<string, unknown>
  #pool: MariaDbIamPool | undefined
  #provider

  /**
   * @param config mariadb pool config with `iam` (and optionally `url`), or a
   *   `mysql://user@host:3306/db` (or `mariadb://`) URL without a password
   * @param options `PrismaMariaDb` options
   */
  constructor(config: PrismaMariaDbIamConfig | string, options: PrismaMariaDbIamOptions = {}) {
    const input = typeof config === 'string' ? parseUrl(config) : withUrl(config)
    const {
      iam: iamRaw,
      password,
      stream,
      ssl,
      host,
      port,
      user,
      database,
      ...rest
    } = input as Record<string, unknown>
    if (stream !== undefined) {
      throw invalid(
        '`stream` cannot be combined with `iam`: the adapter sets each connection’s token through it',
        'remove `stream` (connect through an SSH tunnel with iam.signingHostname instead)',
      )
    }
    const iam = normalizeIamOptions(iamRaw === undefined ? true : iamRaw)
    const auth = createConnectionAuth(
      { host, port, user, password, iam },
      { defaultPort: 3306, urlOption: 'url', engine: 'mysql' },
    )
    const tls = resolveTls(ssl, iam, { host: auth.hostname })
    this.#options = { ...(options ?? {}) }
    const poolConfig: Record<string, unknown> = {
      ...rest,
      host: auth.hostname,
      port: auth.port,
      user: auth.username,
      ...(database === undefined ? {} : { database }),
      minimumIdle: rest.minimumIdle ?? 0,
      // What PrismaMariaDb sets for pools it creates itself (it does not for a pool handed to it).
      prepareCacheLength: rest.prepareCacheLength ?? 0,
    }
    this.#build = () => {
      return new MariaDbIamPool(
        loadAdapterMariaDb().poolParts,
        poolConfig,
        auth,
        iam,
        tls === false ? false : tls,
      )
    }
    this.#provider = auth.provider
    rememberHolder(this, { tokenProvider: () => this.#provider })
  }

  /** Called by Prisma on its first query (and again after `$disconnect()`): opens the pool. */
  async connect(): Promise<PrismaDriverAdapter> {
    // Opened here, not in the constructor: with a minimumIdle the pool logs in at once, and a
    // PrismaClient that never queries should not.
    const pool = this.#pool ?? this.#build()
    this.#pool = pool
    const { PrismaMariaDb } = loadAdapterMariaDb()
    const factory = new PrismaMariaDb(pool, { ...this.#options, disposeExternalPool: false })
    const adapter = await factory.connect()
    return wrapAdapter(adapter as unknown as SqlAdapterLike, async () => {
      if (this.#pool === pool) this.#pool = undefined
      await pool.end().catch(() => {})
    }) as unknown as PrismaDriverAdapter
  }

  /** The IAM pool of the current Prisma connection (undefined before the first query). */
  get pool(): MariaDbIamPool | undefined {
    return this.#pool
  }
}

// Keys people bring from other drivers for the URL; mariadb would ignore them silently.
const OTHER_URL_KEYS = ['connectionString', 'uri']

/** The config object, with the settings of its `url` (if any) merged in. */
function withUrl(config: unknown): Record<string, unknown> {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw invalid(
      'PrismaMariaDbIam needs a mariadb config object or a mysql:// URL',
      'pass { host, user, database, iam: true }, { url: "mysql://user@host:3306/db", iam: { … } } or "mysql://user@host:3306/db"',
    )
  }
  const record = config as Record<string, unknown>
  for (const key of OTHER_URL_KEYS) {
    if (record[key] !== undefined) {
      throw invalid(
        `PrismaMariaDbIam takes its URL as \`url\`, not \`${key}\``,
        `rename \`${key}\` to \`url\`: { url: "mysql://user@host:3306/db", iam: { … } }`,
      )
    }
  }
  const { url, ...rest } = record
  if (url === undefined) return record
  if (typeof url !== 'string') {
    throw invalid('`url` must be a string', 'pass { url: "mysql://user@host:3306/db", iam: { … } }')
  }
  const fromUrl = parseUrl(url)
  for (const [key, value] of Object.entries(fromUrl)) {
    // Which one should win is a guess either way: the user says which by keeping one.
    if (value !== undefined && rest[key] !== undefined) {
      throw invalid(
        `\`${key}\` is set both in \`url\` and beside it`,
        `set \`${key}\` in one place: remove it from the URL or from the config object`,
      )
    }
  }
  const merged: Record<string, unknown> = { ...rest }
  for (const [key, value] of Object.entries(fromUrl)) if (value !== undefined) merged[key] = value
  return merged
}

function parseUrl(text: string): Record<string, unknown> {
  let url: URL
  try {
    url = new URL(text)
  } catch (cause) {
    throw new RdsIamError(
      'RDS_IAM_INVALID_OPTIONS',
      'the MySQL URL could not be parsed',
      'pass a URL like mysql://user@host:3306/db (percent-encode special characters), or a config object',
      { cause },
    )
  }
  if (!MYSQL_SCHEMES.has(url.protocol)) {
    throw invalid(
      `PrismaMariaDbIam takes mysql:// or mariadb:// URLs, not ${url.protocol}//`,
      url.protocol.startsWith('postgres')
        ? 'use PrismaPgIam for PostgreSQL'
        : 'pass a URL like mysql://user@host:3306/db',
    )
  }
  if (url.password !== '') {
    throw invalid(
      'the URL contains a password, but `iam` supplies the password',
      'remove the password from the URL (mysql://user@host/db)',
    )
  }
  const config: Record<string, unknown> = {
    host: decodeURIComponent(url.hostname.replace(/^\[|\]$/g, '')),
    user: url.username === '' ? undefined : decodeURIComponent(url.username),
  }
  if (url.port !== '') config.port = Number(url.port)
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''))
  if (database !== '') config.database = database
  for (const [key, value] of url.searchParams) {
    if (key === 'ssl' || key === 'sslmode') {
      config.ssl = value === 'false' || value === 'disable' ? false : value === 'true' ? true : value
    } else
      config[key] = NUMERIC.test(value)
        ? Number(value)
        : value === 'true'
          ? true
          : value === 'false'
            ? false
            : value
  }
  return config
}

function invalid(message: string, hint: string): RdsIamError {
  return new RdsIamError('RDS_IAM_INVALID_OPTIONS', message, hint)
}
