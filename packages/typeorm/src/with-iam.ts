import { createRequire } from 'node:module'
import {
  type IamOption,
  type IamOptions,
  normalizeIamOptions,
  RdsIamError,
  requirePeer,
  unsupportedDriver,
} from '@rds-iam/core'
import {
  createPool,
  createPoolCluster,
  type Mysql2ModuleLike,
  withIam as mysql2WithIam,
} from '@rds-iam/mysql2'
import { createPoolClass, type PgModuleLike, withIam as pgWithIam } from '@rds-iam/pg'
import type { DataSourceOptions } from 'typeorm'
import type { ConnectionTarget } from './internal-types.js'
import { findInstalledTypeorm, typeormMajor } from './typeorm-version.js'

/**
 * The TypeORM option sets IAM database authentication exists for (RDS/Aurora PostgreSQL, MySQL, MariaDB).
 *
 * @example
 * ```ts
 * const base: IamCapableDataSourceOptions = { type: 'mysql', host, username: 'app', database: 'app' }
 * ```
 */
export type IamCapableDataSourceOptions = Extract<
  DataSourceOptions,
  { type: 'postgres' | 'mysql' | 'mariadb' }
>

/**
 * TypeORM `DataSourceOptions` for `postgres`, `mysql` or `mariadb`, with `iam` added. Everything
 * else is TypeORM's own option, passed through (NestJS keys such as `autoLoadEntities` too).
 *
 * @example
 * ```ts
 * import { DataSource } from 'typeorm'
 * const options: IamDataSourceOptions = { type: 'postgres', host, username: 'app', database: 'app', iam: { region: 'eu-west-1' } }
 * const dataSource = new DataSource(withIam(options))
 * ```
 */
export type IamDataSourceOptions = IamCapableDataSourceOptions & {
  /** `true` for defaults, or IAM options. Omitted means `true`. */
  iam?: IamOption
}

/**
 * What {@link withIam} returns: your options without `iam`, with the driver and `extra` IAM needs.
 *
 * @example
 * ```ts
 * const options: IamAppliedDataSourceOptions<IamDataSourceOptions> = withIam({ type: 'postgres', host, username: 'app' })
 * ```
 */
export type IamAppliedDataSourceOptions<O> = Omit<O, 'iam'> & {
  /** The `pg` / `mysql2` module with IAM pools in place of the plain ones. */
  driver: object
  /** Your `extra` plus the `iam` settings each pool reads. */
  extra: Record<string, unknown>
  /** Set to `'mysql2'` for MySQL on TypeORM 0.3 (which would otherwise load the old `mysql`); absent on 1.x. */
  connectorPackage?: 'mysql2'
}

/**
 * Tells {@link withIam} which TypeORM it configures when it cannot find out by itself.
 *
 * @example
 * ```ts
 * withIam({ type: 'mysql', host, username: 'app', iam: true }, { typeormVersion: '1.1.1' })
 * ```
 */
export interface TypeormInjection {
  /**
   * The TypeORM version the options are for (e.g. `'0.3.28'`). Default: read from the `typeorm`
   * the application installed. Only MySQL needs it: TypeORM 0.3 must be told to use mysql2.
   */
  typeormVersion?: string
}

const IAM_TYPES = new Set(['postgres', 'mysql', 'mariadb'])

/**
 * Turns TypeORM `DataSourceOptions` into options that log in with IAM tokens: every new physical
 * connection of the DataSource's pool (and of each replica's pool) gets a current token, signed
 * for its own endpoint, over TLS verified against the RDS CA bundle; a refused login is retried
 * with a fresh token. Bad options throw a typed `RdsIamError` here, before any network traffic.
 *
 * For postgres the pool is `@rds-iam/pg`'s, built on your `pg` (or the `driver` you pass); for
 * mysql/mariadb it is `@rds-iam/mysql2`'s, on your `mysql2` (or `driver`).
 *
 * @example
 * ```ts
 * import { DataSource } from 'typeorm'
 * import { withIam } from '@rds-iam/typeorm'
 * const dataSource = new DataSource(withIam({
 *   type: 'postgres', host: 'db.abc.eu-west-1.rds.amazonaws.com', username: 'app', database: 'app',
 *   iam: true, entities: [User], migrations: [Init1700000000000],
 * }))
 * await dataSource.initialize()
 * ```
 */
export function withIam<O extends IamDataSourceOptions>(
  options: O,
  injection: TypeormInjection = {},
): IamAppliedDataSourceOptions<O> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalid(
      'the DataSource options must be an object',
      "pass TypeORM's options, e.g. withIam({ type: 'postgres', host, username, database, iam: true })",
    )
  }
  const { iam: iamRaw, ...rest } = options as unknown as Record<string, unknown>
  const type = rest.type
  if (typeof type !== 'string' || !IAM_TYPES.has(type)) throw unsupportedType(type)
  const iam = normalizeIamOptions(iamRaw === undefined ? true : iamRaw)

  const extra = rest.extra ?? {}
  if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) {
    throw invalid('`extra` must be an object', 'pass extra as { … } driver options, or leave it out')
  }
  const extraFields = extra as Record<string, unknown>
  if ('iam' in extraFields) {
    throw invalid(
      '`extra.iam` is set, but withIam manages it (or withIam was applied twice)',
      'set `iam` at the top level of the DataSource options and call withIam once',
    )
  }
  if (present(extraFields.password)) {
    throw invalid(
      '`extra.password` is set, but the IAM token is the password',
      'remove `extra.password` (and any password option), or remove `iam` to log in with a password',
    )
  }
  if (present(rest.password)) {
    throw invalid(
      '`password` is set, but the IAM token is the password',
      'remove `password`, or remove `iam` to log in with a password',
    )
  }
  const targets = connectionTargets(rest)
  for (const { target, name } of targets) checkTarget(target, name, type, rest, extraFields)
  if (type === 'postgres') checkReplicationSsl(rest)
  else checkMysqlNodeSsl(targets)

  // The iam settings travel in `extra`, which TypeORM hands to every pool it builds. The
  // normalized copy keeps static secrets out of util.inspect(dataSource).
  const applied: Record<string, unknown> = { ...rest, extra: { ...extraFields, iam } }
  if (type === 'postgres') applyPostgres(applied, rest, targets, extraFields, iam)
  else applyMysql(applied, rest, targets, extraFields, iam, injection)
  return applied as IamAppliedDataSourceOptions<O>
}

function applyPostgres(
  applied: Record<string, unknown>,
  rest: Record<string, unknown>,
  targets: NamedTarget[],
  extra: Record<string, unknown>,
  iam: IamOptions,
): void {
  if (rest.nativeDriver !== undefined && rest.nativeDriver !== null) {
    throw unsupportedDriver(
      'pg-native',
      'remove `nativeDriver`: libpq never asks for a per-connection password, so it cannot send a fresh token',
    )
  }
  const pg = (rest.driver as PgModuleLike | undefined) ?? loadDriver<PgModuleLike>('pg')
  // Throws RDS_IAM_UNSUPPORTED_DRIVER for pg.native passed as `driver`.
  const Pool = createPoolClass(pg)
  for (const { target } of targets) {
    // Exactly the config TypeORM's PostgresDriver.createPool builds, checked by @rds-iam/pg now
    // rather than inside initialize().
    pgWithIam({
      connectionString: target.url,
      host: target.host,
      user: target.username,
      password: target.password,
      database: target.database,
      port: target.port,
      ssl: target.ssl,
      ...extra,
      iam,
    } as Parameters<typeof pgWithIam>[0])
  }
  // A spread, not a subclass of the module: it leaves out pg's non-enumerable `native` getter,
  // which TypeORM switches to whenever pg-native is installed, even with `driver` set.
  applied.driver = { ...(pg as object), Pool }
}

function applyMysql(
  applied: Record<string, unknown>,
  rest: Record<string, unknown>,
  targets: NamedTarget[],
  extra: Record<string, unknown>,
  iam: IamOptions,
  injection: TypeormInjection,
): void {
  if (rest.connectorPackage === 'mysql') {
    throw unsupportedDriver(
      'the mysql package (mysqljs/mysql)',
      "use mysql2: remove `connectorPackage` or set connectorPackage: 'mysql2' (npm install mysql2)",
    )
  }
  const mysql2 = (rest.driver as Mysql2ModuleLike | undefined) ?? loadDriver<Mysql2ModuleLike>('mysql2')
  for (const { target } of targets) {
    // What TypeORM's MysqlDriver.createConnectionOptions builds (`ssl` is top-level there).
    mysql2WithIam({
      uri: target.url,
      host: target.host,
      user: target.username,
      password: target.password,
      database: target.database,
      port: target.port,
      ssl: rest.ssl,
      socketPath: target.socketPath,
      ...extra,
      iam,
    } as Parameters<typeof mysql2WithIam>[0])
  }
  applied.driver = {
    ...(mysql2 as object),
    createPool: (config: Parameters<typeof createPool>[0]) => createPool(config, { mysql2 }),
    createPoolCluster: (config?: Parameters<typeof createPoolCluster>[0]) =>
      createPoolCluster(config, { mysql2 }),
  }
  const version = injection.typeormVersion ?? findInstalledTypeorm()?.version
  if (version === undefined) {
    throw new RdsIamError(
      'RDS_IAM_UNSUPPORTED_DRIVER',
      'typeorm could not be found to tell whether it needs `connectorPackage`',
      "install typeorm beside @rds-iam/typeorm, or pass its version: withIam(options, { typeormVersion: '1.1.1' })",
    )
  }
  // TypeORM 0.3 defaults to the old `mysql` package (and warns when `driver` comes without a
  // name); 1.x is mysql2-only and no longer has the option.
  if (typeormMajor(version) === 0) applied.connectorPackage = 'mysql2'
}

interface NamedTarget {
  target: ConnectionTarget
  /** How the user wrote its place, for messages: `''`, `'replication.master.'`, `'replication.slaves[0].'`. */
  name: string
}

function connectionTargets(options: Record<string, unknown>): NamedTarget[] {
  const replication = options.replication
  if (replication === undefined || replication === null) return [{ target: options, name: '' }]
  const shape = 'use replication: { master: { host, username, … }, slaves: [{ host, username, … }] }'
  if (typeof replication !== 'object') throw invalid('`replication` must be an object', shape)
  const { master, slaves = [] } = replication as { master?: unknown; slaves?: unknown }
  if (master === null || typeof master !== 'object' || !Array.isArray(slaves)) {
    throw invalid('`replication` needs a `master` object and a `slaves` array', shape)
  }
  const out: NamedTarget[] = [{ target: master as ConnectionTarget, name: 'replication.master.' }]
  slaves.forEach((slave, i) => {
    if (slave === null || typeof slave !== 'object') {
      throw invalid(`replication.slaves[${i}] must be an object`, shape)
    }
    out.push({ target: slave as ConnectionTarget, name: `replication.slaves[${i}].` })
  })
  return out
}

/**
 * The checks whose messages should name TypeORM's options (`host`, `url`, `username`) rather than the
 * driver's (`connectionString`, `uri`, `user`); the driver adapters check everything else.
 */
function checkTarget(
  target: ConnectionTarget,
  name: string,
  type: string,
  options: Record<string, unknown>,
  extra: Record<string, unknown>,
): void {
  if (present(target.password)) {
    throw invalid(
      `\`${name}password\` is set, but the IAM token is the password`,
      `remove \`${name}password\`, or remove \`iam\` to log in with a password`,
    )
  }
  let urlUser: string | undefined
  let urlHost = ''
  if (present(target.url)) {
    if (typeof target.url !== 'string') {
      throw invalid(`\`${name}url\` must be a string`, 'pass a URL like postgres://app@host:5432/db')
    }
    let url: URL
    try {
      url = new URL(target.url)
    } catch {
      // No `cause`: URL's TypeError carries the input, which may hold a password.
      throw invalid(
        `\`${name}url\` could not be parsed`,
        'pass a URL like postgres://app@host:5432/db (percent-encode special characters), or use host/port/username',
      )
    }
    if (url.password !== '') {
      throw invalid(
        `\`${name}url\` contains a password, but the IAM token is the password`,
        `remove the password from the URL (${url.protocol}//${url.username || 'app'}@${url.host}${url.pathname}), or remove \`iam\``,
      )
    }
    urlUser = url.username || undefined
    urlHost = type === 'postgres' ? pgUrlHost(url) : url.hostname
  }
  checkHost(target, name, type, options, extra, urlHost)
  if (type !== 'postgres' && present(target.url)) {
    // TypeORM's mysql driver spreads its own parse of `url` over the node's options, and that
    // parse sets `username` to the URL's user: '' when the URL has none, so `username` beside it
    // is lost with or without withIam (test/mysql-url.test.ts). Only `extra.user`, spread over
    // the pool config last, survives. Refused rather than carried across, so the options stay
    // ones plain TypeORM reads the same way.
    if (urlUser || present(extra.user)) return
    const ignored = present(target.username) ? ` (\`${name}username\` is ignored)` : ''
    throw invalid(
      `\`${name}url\` has no user, and TypeORM's mysql driver takes the user from \`url\` whenever it is set${ignored}`,
      `put the IAM database user in \`${name}url\` (mysql://app@host:3306/db), or remove \`${name}url\` and set \`${name}host\` and \`${name}username\``,
    )
  }
  const envUser = type === 'postgres' ? process.env.PGUSER : undefined
  if (!present(target.username) && !urlUser && !present(extra.user) && !present(envUser)) {
    throw invalid(
      `no \`${name}username\`: the token is signed for a database user`,
      `set \`${name}username\` to the IAM database user (or put it in \`${name}url\`)`,
    )
  }
}

/**
 * The driver adapters refuse a missing host (or a Unix socket) too, but name their own options
 * (`connectionString` / `uri`, an unprefixed `host`), which a TypeORM user never wrote or, with
 * `replication`, cannot tell apart from the other nodes'. The sources are the ones the pool config
 * gets. Postgres: the node's `url` (host part, or ?host=, as pg-connection-string reads it), which
 * @rds-iam/pg lets win like pg does, then `extra.host` (TypeORM spreads `extra` over every pool
 * config), the node's `host`, PGHOST. Mysql: `extra.host`, then TypeORM's own URL parse, whose
 * host replaces `host` whenever `url` is set, even when it is empty, else `host`.
 */
function checkHost(
  target: ConnectionTarget,
  name: string,
  type: string,
  options: Record<string, unknown>,
  extra: Record<string, unknown>,
  urlHost: string,
): void {
  if (type !== 'postgres') {
    // TypeORM's MysqlDriver passes `socketPath` (and `extra` its own) to mysql2, which then
    // ignores the host; pg has no such option.
    const socketPath = present(extra.socketPath)
      ? 'extra.socketPath'
      : present(target.socketPath)
        ? `${name}socketPath`
        : undefined
    if (socketPath !== undefined) {
      throw invalid(
        `\`${socketPath}\` is a Unix socket, which cannot carry an IAM login (IAM tokens need a TCP endpoint)`,
        `remove \`${socketPath}\` and set \`${name}host\` to the RDS/Aurora endpoint`,
      )
    }
  }
  const hasUrl = present(target.url)
  let host: { value: string; option: string } | undefined
  if (type === 'postgres') {
    if (urlHost !== '') host = { value: urlHost, option: `${name}url` }
    else if (present(extra.host)) host = { value: String(extra.host), option: 'extra.host' }
    else if (present(target.host)) host = { value: String(target.host), option: `${name}host` }
    else if (present(process.env.PGHOST)) host = { value: String(process.env.PGHOST), option: 'PGHOST' }
  } else if (present(extra.host)) {
    host = { value: String(extra.host), option: 'extra.host' }
  } else if (hasUrl) {
    if (urlHost === '') {
      throw invalid(
        `\`${name}url\` has no host, and TypeORM's mysql driver takes the host from \`url\` whenever it is set (\`host\` is ignored)`,
        `put the RDS/Aurora endpoint in \`${name}url\` (mysql://app@host:3306/db), or remove \`${name}url\` and set \`${name}host\``,
      )
    }
    host = { value: urlHost, option: `${name}url` }
  } else if (present(target.host)) {
    host = { value: String(target.host), option: `${name}host` }
  }
  if (host === undefined) {
    // With `replication` TypeORM connects each node with that node's own host only.
    const ignored =
      name !== '' && present(options.host) ? ' (TypeORM ignores the top-level `host` with `replication`)' : ''
    throw invalid(
      `no \`${name}host\` to connect to${ignored}`,
      `set \`${name}host\` (the RDS/Aurora endpoint) or a \`${name}url\` with a host`,
    )
  }
  // core refuses a socket too, but its hint says `host` whichever node (or url) held it.
  if (host.value.startsWith('/')) {
    const fix =
      host.option === `${name}url`
        ? `put the RDS/Aurora endpoint in \`${name}url\` as its host (and no ?host=), or remove \`${name}url\` and set \`${name}host\``
        : host.option === `${name}host`
          ? `set \`${name}host\` to the RDS/Aurora endpoint name`
          : `remove \`${host.option}\` and set \`${name}host\` to the RDS/Aurora endpoint name`
    const verb = host.option === `${name}url` ? 'names' : 'is'
    throw invalid(
      `\`${host.option}\` ${verb} a Unix socket ("${host.value}"); IAM tokens need a TCP endpoint`,
      fix,
    )
  }
}

/**
 * The host pg-connection-string takes from a URL: ?host= wins, then a `socket:` URL's path, then
 * the (percent-decoded, so `%2Fvar%2Frun` is a socket directory) host part.
 */
function pgUrlHost(url: URL): string {
  const query = url.searchParams.get('host')
  if (present(query)) return query as string
  if (url.protocol === 'socket:') return decodeURI(url.pathname)
  const hostname = url.hostname.replace(/^\[(.+)\]$/, '$1')
  try {
    return decodeURIComponent(hostname)
  } catch {
    return hostname
  }
}

/**
 * TypeORM's PostgresDriver builds each replica's pool from that node's own options only
 * (`ssl: credentials.ssl`, in 0.3.20 through 1.1.1), so a top-level `ssl` beside `replication` never
 * reaches a pool: its CA would be dropped silently and the login would fail inside `initialize()`
 * with a raw certificate error. It is refused rather than copied into the nodes: TypeORM users
 * know `ssl` as per-node with replication, and a copied `servername` or `checkServerIdentity`
 * would check every replica's certificate against one node's name.
 */
function checkReplicationSsl(options: Record<string, unknown>): void {
  if (options.replication === undefined || options.replication === null) return
  if (options.ssl === undefined || options.ssl === null) return
  throw invalid(
    'a top-level `ssl` is set with `replication`, but TypeORM connects each postgres node with its own `ssl` only, so it would be ignored',
    'move `ssl` into `replication.master` and each entry of `replication.slaves` (e.g. replication.master.ssl = { ca }), and remove the top-level `ssl`',
  )
}

/**
 * TypeORM's MysqlDriver gives every pool the top-level `ssl` (`ssl: options.ssl` in
 * createConnectionOptions, 0.3.20 through 1.1.1) and never reads a node's own, so a node's CA
 * would be dropped silently and the login would fail inside `initialize()` with a raw TLS error.
 * The mirror of the postgres rule: refused where TypeORM would ignore it, not moved to the top
 * level, which would change what plain TypeORM does with the same options.
 */
function checkMysqlNodeSsl(targets: NamedTarget[]): void {
  for (const { target, name } of targets) {
    if (name === '' || target.ssl === undefined || target.ssl === null) continue
    throw invalid(
      `\`${name}ssl\` is set, but TypeORM's mysql driver gives every node the top-level \`ssl\` only, so it would be ignored`,
      `put \`ssl\` at the top level for mysql, one object for every node (e.g. ssl: { ca: [caOfEachNode] }; unset, the RDS CA bundle covers every RDS/Aurora node), and remove \`${name}ssl\``,
    )
  }
}

/** Loads `pg` / `mysql2` from where TypeORM itself would (its own directory), else beside us. */
function loadDriver<T>(id: 'pg' | 'mysql2'): T {
  const typeorm = findInstalledTypeorm()
  if (typeorm) {
    try {
      return createRequire(typeorm.manifest)(id) as T
    } catch {
      // Fall through to the peer beside this package, which reports a missing module clearly.
    }
  }
  return requirePeer<T>(
    id,
    import.meta.url,
    `install it beside typeorm (npm install ${id}), or pass your copy as the \`driver\` option`,
  )
}

function unsupportedType(type: unknown): RdsIamError {
  const name = typeof type === 'string' ? `TypeORM type "${type}"` : 'a DataSource without `type`'
  const hint =
    type === 'aurora-postgres' || type === 'aurora-mysql'
      ? `${type} is the RDS Data API driver, which authenticates through Secrets Manager, not IAM database tokens: use type '${type === 'aurora-postgres' ? 'postgres' : 'mysql'}' with the cluster endpoint`
      : "IAM database authentication exists for RDS/Aurora PostgreSQL, MySQL and MariaDB: use type 'postgres', 'mysql' or 'mariadb'"
  return unsupportedDriver(name, hint)
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== ''
}

function invalid(message: string, hint: string): RdsIamError {
  return new RdsIamError('RDS_IAM_INVALID_OPTIONS', message, hint)
}
