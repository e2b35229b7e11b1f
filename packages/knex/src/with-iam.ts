import {
  createConnectionAuth,
  type IamOption,
  type IamOptions,
  normalizeIamOptions,
  RdsIamError,
  type TokenProvider,
  unsupportedDriver,
} from '@rds-iam/core'
import { getTokenProvider as mysqlProvider, withIam as mysqlWithIam } from '@rds-iam/mysql2'
import { withIam as pgWithIam } from '@rds-iam/pg'

// The CommonJS typings are the same API as the ESM ones and exist in every 3.x (3.2.0–3.2.3 lack the ESM file).
type KnexConfig = import('knex', { with: { 'resolution-mode': 'require' }}).Knex.Config

import { createIamDialect } from './iam-dialect.js'
import type { DriverKind, KnexModuleLike } from './internal-types.js'
import { dialectClass, loadKnex } from './knex-module.js'

/**
 * A knex `connection` object with `iam` added. Everything else is the driver's own connection
 * config (pg's or mysql2's), passed through unchanged except what `iam` settles: `password`,
 * `ssl`, pg's `connectionString`, mysql2's `uri` and `authPlugins.mysql_clear_password`.
 */
export interface IamKnexConnection {
  /** `true` for defaults, or IAM options. Omitted means `true`. */
  iam?: IamOption
  host?: string
  port?: number
  user?: string
  database?: string
  /** pg only: `postgres://user@host:5432/db`, merged so it cannot override the token or the CA. */
  connectionString?: string
  /** mysql2 only: `mysql://user@host:3306/db`, merged so it cannot drop the token plugin or TLS. */
  uri?: string
  /** Default: verify the certificate and host name against the RDS CA bundle. */
  ssl?: unknown
  [option: string]: unknown
}

/**
 * Your knex config with IAM: `client` is `'pg'` (or knex's aliases `'postgres'` / `'postgresql'`)
 * or `'mysql2'`; `connection` is an object with `iam`, or a URL string (then `iam` may sit at
 * the top level).
 */
export type IamKnexConfig = Omit<KnexConfig, 'client' | 'dialect' | 'connection'> & {
  /** `'pg'`, `'postgres'`, `'postgresql'` or `'mysql2'`. */
  client?: string
  /** knex's older name for `client`. */
  dialect?: string
  connection: IamKnexConnection | string
  /** IAM options for a URL-string `connection` (for an object, put `iam` inside it). */
  iam?: IamOption
}

/** Where to find knex; defaults to the copy the application installed. */
export interface KnexInjection {
  /** The `knex` module to build on (`import knex from 'knex'`), e.g. when several copies exist. */
  knex?: KnexModuleLike
}

const DRIVERS: Record<string, DriverKind> = {
  pg: 'pg',
  postgres: 'pg',
  postgresql: 'pg',
  mysql2: 'mysql2',
}
const NOT_RDS_IAM = 'RDS IAM database authentication exists for PostgreSQL and MySQL/MariaDB engines only'
const REFUSED: Record<string, { driver: string; hint: string }> = {
  mysql: {
    driver: "knex client 'mysql' (the mysql package)",
    hint: "use client: 'mysql2' (npm install mysql2): the mysql package has no auth-plugin hook to send a fresh token per connection",
  },
  mariadb: {
    driver: "knex client 'mariadb' (the mariadb connector)",
    hint: "use client: 'mysql2' (npm install mysql2): the mariadb connector has no per-connection password hook, so its pool would reuse one frozen token",
  },
  pgnative: {
    driver: "knex client 'pgnative' (pg-native)",
    hint: "use client: 'pg': libpq does its own authentication and never asks for a per-connection token",
  },
  cockroachdb: {
    driver: "knex client 'cockroachdb'",
    hint: `${NOT_RDS_IAM}; use client: 'pg' for RDS/Aurora PostgreSQL`,
  },
  redshift: {
    driver: "knex client 'redshift'",
    hint: `${NOT_RDS_IAM}; Redshift has its own IAM (GetClusterCredentials). For RDS/Aurora PostgreSQL use client: 'pg'`,
  },
  mssql: {
    driver: "knex client 'mssql'",
    hint: `${NOT_RDS_IAM} (RDS for SQL Server uses Kerberos); use client: 'pg' or 'mysql2'`,
  },
  oracledb: {
    driver: "knex client 'oracledb'",
    hint: `${NOT_RDS_IAM} (RDS for Oracle uses Kerberos); use client: 'pg' or 'mysql2'`,
  },
  oracle: {
    driver: "knex client 'oracle'",
    hint: `${NOT_RDS_IAM} (RDS for Oracle uses Kerberos); use client: 'pg' or 'mysql2'`,
  },
  sqlite3: {
    driver: "knex client 'sqlite3'",
    hint: `${NOT_RDS_IAM}; SQLite is a local file and has no login`,
  },
  sqlite: { driver: "knex client 'sqlite'", hint: `${NOT_RDS_IAM}; SQLite is a local file and has no login` },
  'better-sqlite3': {
    driver: "knex client 'better-sqlite3'",
    hint: `${NOT_RDS_IAM}; SQLite is a local file and has no login`,
  },
}
const URL_PROTOCOLS: Record<DriverKind, string[]> = {
  pg: ['postgres:', 'postgresql:'],
  mysql2: ['mysql:', 'mysqlx:'],
}

const providers = new WeakMap<object, TokenProvider>()

/**
 * Turns the knex config you already have into one that logs in with IAM tokens: `knex(withIam(config))`.
 * Every new pooled connection gets a current token (cached, signed ahead of expiry) over TLS
 * verified against the RDS CA bundle; a refused login is retried with a freshly signed token,
 * and a login that stays refused fails the query with `RDS_IAM_AUTH_FAILED`. Problems in the
 * config throw a typed `RdsIamError` here, before any network traffic. A config typed as knex's
 * own `Knex.Config` is accepted as is (no `iam` in it means `iam: true`).
 *
 * @example
 * ```ts
 * import knex from 'knex'
 * import { withIam } from '@rds-iam/knex'
 * const db = knex(withIam({
 *   client: 'pg',
 *   connection: { host: 'db.abc.eu-west-1.rds.amazonaws.com', user: 'app', database: 'app', iam: true },
 * }))
 * ```
 */
export function withIam(config: IamKnexConfig | KnexConfig, injection: KnexInjection = {}): KnexConfig {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw invalid(
      'the knex config must be an object',
      "pass your knex config object, e.g. { client: 'pg', connection: { host, user, database, iam: true } }",
    )
  }
  const { iam: topIam, dialect, client: clientRaw, ...rest } = config as Record<string, unknown>
  const kind = driverKind(clientRaw ?? dialect)

  if (rest.connectionPool !== undefined) {
    throw invalid(
      '`connectionPool` (an external pool) cannot be combined with withIam: knex would never use `connection`',
      kind === 'pg'
        ? "either drop connectionPool and let withIam build knex's pool, or pass connectionPool: new Pool({ ..., iam: true }) from @rds-iam/pg without withIam"
        : "either drop connectionPool and let withIam build knex's pool, or pass connectionPool: createPool({ ..., iam: true }) from @rds-iam/mysql2 without withIam",
    )
  }
  checkPool(rest.pool)

  const connection = rest.connection
  if (typeof connection === 'function') {
    throw invalid(
      'a `connection` function cannot carry IAM tokens: knex caches the config it returns, so a token in it stays frozen until knex calls the function again, and nothing can make knex call it after a refused login',
      'pass the connection object itself with `iam: true` (no password); withIam then fetches a current token for every new connection and retries a refused login with a fresh one',
    )
  }
  if (connection === undefined || connection === null || connection === '') {
    throw invalid(
      'the knex config has no `connection`',
      "add connection: { host, port, user, database, iam: true } (or a URL string such as 'postgres://app@host:5432/db')",
    )
  }
  if (typeof connection !== 'string' && (typeof connection !== 'object' || Array.isArray(connection))) {
    throw invalid(
      '`connection` must be an object or a URL string',
      'pass connection: { host, user, database, iam: true }',
    )
  }

  const { iam: connIam, ...driverOptions } =
    typeof connection === 'string' ? ({} as Record<string, unknown>) : (connection as Record<string, unknown>)
  if (connIam !== undefined && topIam !== undefined) {
    throw invalid(
      '`iam` is set both at the top level and in `connection`',
      'keep one: `connection.iam` for an object connection, top-level `iam` for a URL string',
    )
  }
  const iam = normalizeIamOptions(connIam ?? topIam ?? true)
  if (typeof connection === 'string') checkUrl(connection, kind)

  const { driverConfig, provider, prepare } = driverSetup(kind, connection, driverOptions, iam)
  const Dialect = createIamDialect(dialectClass(injection.knex ?? loadKnex(), kind), {
    kind,
    provider,
    iam,
    prepare,
  })
  providers.set(Dialect, provider)

  const out = { ...rest, client: Dialect, connection: driverConfig } as unknown as KnexConfig
  providers.set(out, provider)
  return out
}

/**
 * The token provider behind a knex instance made from a {@link withIam} config (or that config,
 * or a transaction of that instance): `stats()` for metrics, `invalidate()` after an
 * out-of-band failure.
 *
 * @example
 * ```ts
 * const db = knex(withIam(config))
 * console.log(getTokenProvider(db)?.stats()) // { signed, hits, inflightJoins, failures }
 * ```
 */
export function getTokenProvider(target: unknown): TokenProvider | undefined {
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) return undefined
  const direct = providers.get(target as object)
  if (direct) return direct
  const client = (target as { client?: unknown }).client ?? target
  if (typeof client === 'function') return providers.get(client)
  if (client !== null && typeof client === 'object') return providers.get(client.constructor)
  return undefined
}

function driverKind(client: unknown): DriverKind {
  if (typeof client === 'function') {
    throw invalid(
      providers.has(client)
        ? 'this config already went through withIam'
        : '`client` is a class; withIam needs the client name to pick its driver hook',
      providers.has(client)
        ? 'call withIam once, on your plain knex config'
        : "set client: 'pg' or client: 'mysql2' (withIam builds the client class on knex's own dialect)",
    )
  }
  if (typeof client !== 'string' || client === '') {
    throw invalid(
      'the knex config has no `client`',
      "set client: 'pg' (PostgreSQL) or client: 'mysql2' (MySQL, MariaDB)",
    )
  }
  const kind = DRIVERS[client]
  if (kind) return kind
  const refused = REFUSED[client]
  if (refused) throw unsupportedDriver(refused.driver, refused.hint)
  throw new RdsIamError(
    'RDS_IAM_UNSUPPORTED_DRIVER',
    `knex client '${client}' is not one @rds-iam/knex supports`,
    "set client: 'pg' (also 'postgres', 'postgresql') or client: 'mysql2' (names are case-sensitive in knex)",
  )
}

function checkPool(pool: unknown): void {
  if (pool === undefined || pool === null) return
  if (typeof pool !== 'object')
    throw invalid('`pool` must be an object', 'pass pool: { min, max } or leave it out')
  if ((pool as { propagateCreateError?: unknown }).propagateCreateError === false) {
    throw invalid(
      '`pool.propagateCreateError: false` hides IAM login failures: the pool would retry the failed login silently until the acquire timeout and report a KnexTimeoutError whose cause has lost the database error',
      'remove pool.propagateCreateError (knex defaults it to true); withIam already retries a refused login with a freshly signed token, within iam.retry',
    )
  }
}

function checkUrl(url: string, kind: DriverKind): void {
  let protocol: string
  try {
    protocol = new URL(url).protocol
  } catch (cause) {
    throw new RdsIamError(
      'RDS_IAM_INVALID_OPTIONS',
      '`connection` is a string but not a URL',
      kind === 'pg'
        ? 'pass a URL like postgres://app@host:5432/db (percent-encode special characters), or a connection object'
        : 'pass a URL like mysql://app@host:3306/db (percent-encode special characters), or a connection object',
      { cause },
    )
  }
  if (!URL_PROTOCOLS[kind].includes(protocol)) {
    throw invalid(
      `a ${protocol} URL does not fit client '${kind}'`,
      kind === 'pg' ? 'use a postgres:// URL with client: pg' : 'use a mysql:// URL with client: mysql2',
    )
  }
}

function driverSetup(
  kind: DriverKind,
  connection: unknown,
  options: Record<string, unknown>,
  iam: IamOptions,
): { driverConfig: Record<string, unknown>; provider: TokenProvider; prepare: () => Promise<void> } {
  if (kind === 'pg') {
    const input = typeof connection === 'string' ? { connectionString: connection } : options
    const pgConfig = pgWithIam({ ...input, iam }) as unknown as Record<string, unknown>
    // pg's password function takes its limiter permit inside the handshake, after the socket is
    // open, and @rds-iam/pg's withIam keeps the ConnectionAuth that could take it earlier to
    // itself. So the password comes from a ConnectionAuth of our own for the endpoint and user
    // pg's withIam settled: core shares the token cache entry and the limiter bucket by endpoint,
    // so this is the same token and the same budget, and the permit the dialect's prepare()
    // banks is the one this password function then uses (one per physical connection).
    const auth = createConnectionAuth(
      { host: pgConfig.host, port: pgConfig.port, user: pgConfig.user, iam },
      { defaultPort: 5432, urlOption: 'connectionString', engine: 'postgres' },
    )
    const pgPassword = pgConfig.password as object
    const password = (): Promise<string> => auth.nextToken()
    // Keep what pg's function carries beside its call (a typed error where pg-native would stringify it).
    const guard = Object.getOwnPropertyDescriptor(pgPassword, 'toString')
    if (guard) Object.defineProperty(password, 'toString', guard)
    return {
      driverConfig: { ...pgConfig, password },
      provider: auth.provider,
      prepare: () => auth.prepare(),
    }
  }
  const input = typeof connection === 'string' ? { uri: connection } : options
  const driverConfig = mysqlWithIam({ ...input, iam }) as unknown as Record<string, unknown>
  const provider = mysqlProvider(driverConfig)!
  // @rds-iam/mysql2's stream factory takes the limiter permit itself, before its socket connects
  // (with the user's own `stream`, its auth plugin takes it); the dialect only warms the token.
  const prepare = async (): Promise<void> => {
    await provider.getToken()
  }
  return { driverConfig, provider, prepare }
}

function invalid(message: string, hint: string): RdsIamError {
  return new RdsIamError('RDS_IAM_INVALID_OPTIONS', message, hint)
}
