import { readFileSync } from 'node:fs'
import { type IamOption, nodeDefaultCa, normalizeIamOptions, RdsIamError } from '@rds-iam/core'
import { PASSWORD_OPTIONS } from '@rds-iam/mysql2'
import type { Options } from 'sequelize'
import { checkDialect, checkNoPassword, checkNotNative, endpointConfigs } from './config-checks.js'
import { EndpointRegistry, invalid, WITH_IAM_USER_HINT } from './endpoint-registry.js'
import { createBeforeConnectHook, rememberRegistry } from './iam-hooks.js'
import type { EndpointConfig } from './internal-types.js'

/**
 * Sequelize options with `iam` added. Everything else is Sequelize's own, passed through. `T` is
 * the options type of a framework built on Sequelize (NestJS `SequelizeModuleOptions`,
 * sequelize-typescript `SequelizeOptions`), so its own keys are part of the type too.
 *
 * @example
 * ```ts
 * import { Sequelize } from 'sequelize'
 * const options: IamSequelizeOptions = { dialect: 'mysql', host, username: 'app', iam: { region: 'eu-west-1' } }
 * const sequelize = new Sequelize(withIam(options))
 * ```
 */
export type IamSequelizeOptions<T extends Partial<Options> = Options> = T & {
  /** `true` for defaults, or IAM options. Omitted in `withIam` means `true`. */
  iam?: IamOption
}

/**
 * Turns Sequelize options into ones that log in with IAM tokens: a `beforeConnect` hook gives
 * every new connection a current token for its own host, port and user (each replica of
 * `replication` its own), TLS is verified against the RDS CA bundle, and a refused login is
 * retried with a fresh token. Pass the result to `new Sequelize(...)`. A URL (without password)
 * may come first, as with `new Sequelize(url, options)`. Bad settings throw before any network
 * traffic.
 *
 * Generic, so a framework's options type passes through whole: the result has the keys given,
 * minus `iam`, and fits wherever the input's type fits (e.g. NestJS `SequelizeModule.forRoot`).
 * The constraint keeps a mistake in `iam` or a wrongly typed Sequelize option a type error; only
 * unknown top-level keys pass, as a framework's own keys must.
 *
 * @example
 * ```ts
 * import { Sequelize } from 'sequelize'
 * import { withIam } from '@rds-iam/sequelize'
 * const sequelize = new Sequelize(
 *   withIam({ dialect: 'postgres', host: 'mydb.abc123.eu-west-1.rds.amazonaws.com', username: 'app_user', database: 'app', iam: true }),
 * )
 * ```
 */
export function withIam<T extends IamSequelizeOptions<Partial<Options>>>(options: T): Omit<T, 'iam'>
export function withIam<T extends IamSequelizeOptions<Partial<Options>> = IamSequelizeOptions>(
  url: string,
  options?: T,
): Omit<T, 'iam'> & Options
export function withIam(first: IamSequelizeOptions | string, second?: IamSequelizeOptions): Options {
  const input = typeof first === 'string' ? { ...second, ...parseUrl(first, second) } : first
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw invalid(
      'the Sequelize options must be an object',
      "pass an object like { dialect: 'postgres', host, username, database, iam: true }",
    )
  }
  const { iam: iamRaw, ...rest } = input as IamSequelizeOptions & Record<string, unknown>
  const iam = normalizeIamOptions(iamRaw === undefined ? true : iamRaw)
  const dialect = checkDialect(rest.dialect)
  if (dialect === 'postgres') checkNotNative(rest.native, rest.dialectModule)
  const top: EndpointConfig = {
    host: (rest.host as string | undefined) ?? 'localhost', // Sequelize's own default
    port: rest.port as number | undefined,
    username: rest.username as string | undefined,
    password: rest.password,
    dialectOptions: rest.dialectOptions as Record<string, unknown> | undefined,
  }
  checkNoPassword(top, 'the Sequelize options')

  const registry = new EndpointRegistry(dialect, iam, WITH_IAM_USER_HINT)
  // Every endpoint known now is checked now (host, port, user, TLS), so mistakes surface at
  // `new Sequelize(...)`, not at the first query.
  for (const { config, where } of endpointConfigs(top, rest.replication)) {
    checkNoPassword(config, where)
    registry.endpointFor(config).dialectOptionsFor(config.dialectOptions)
  }

  const hook = createBeforeConnectHook(registry)
  const hooks = { ...(rest.hooks as Record<string, unknown> | undefined) }
  const own = hooks.beforeConnect
  // After the user's own beforeConnect hooks, so a hook that picks the host runs first. A bare
  // function: Sequelize's `hooks` option takes no `{ name, fn }` entries.
  hooks.beforeConnect = [...(Array.isArray(own) ? own : own ? [own] : []), hook]
  const out = { ...rest, hooks } as Options
  rememberRegistry(out, registry)
  return out
}

/**
 * The parts of a Sequelize connection URL that matter here, read the way Sequelize reads them
 * (dialect from the scheme, query parameters into `dialectOptions`); a password in it is refused.
 */
function parseUrl(url: string, options: IamSequelizeOptions | undefined): Record<string, unknown> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (cause) {
    throw new RdsIamError(
      'RDS_IAM_INVALID_OPTIONS',
      'the connection URL could not be parsed',
      'pass a URL like postgres://user@host:5432/db (percent-encode special characters), or use host/username options',
      { cause },
    )
  }
  // mysql2 logs in with ?password= (and the other password options) from the query, which lands in
  // dialectOptions; a password is refused for every dialect, as in the URL's user info.
  const inQuery = PASSWORD_OPTIONS.find((key) => (parsed.searchParams.get(key) ?? '') !== '')
  if (inQuery !== undefined) {
    throw invalid(
      `the connection URL contains a password (?${inQuery}=), but \`iam\` supplies the password`,
      `remove ?${inQuery}= from the URL (mysql://user@host/db) or drop \`iam\``,
    )
  }
  if (parsed.password !== '') {
    throw invalid(
      'the connection URL contains a password, but `iam` supplies the password',
      'remove the password from the URL (postgres://user@host/db) or drop `iam`',
    )
  }
  const out: Record<string, unknown> = { dialect: parsed.protocol.replace(/:$/, '') }
  if (parsed.hostname) out.host = decodeURIComponent(parsed.hostname.replace(/^\[|\]$/g, ''))
  if (parsed.port) out.port = Number(parsed.port)
  if (parsed.username) out.username = decodeURIComponent(parsed.username)
  if (parsed.pathname.length > 1) out.database = decodeURIComponent(parsed.pathname.slice(1))
  const query: Record<string, unknown> = {}
  const files: Partial<Record<CertificateParam, string>> = {}
  let sslmode: unknown
  for (const [key, value] of parsed.searchParams) {
    if (key === 'sslmode' || key === 'ssl') {
      sslmode = value === 'false' || value === '0' ? false : value === 'true' ? true : value
    } else if (isCertificateParam(key)) files[key] = value
    else query[key] = value
  }
  const given = options?.dialectOptions as Record<string, unknown> | undefined
  // libpq (PostgreSQL 16+) allows sslrootcert=system only with verify-full (the default it then
  // takes): refusing the same URLs keeps them meaning one thing for psql and for withIam.
  const weak = sslmode === false || (typeof sslmode === 'string' && sslmode !== 'verify-full')
  if (given?.ssl === undefined && files.sslrootcert === 'system' && weak) {
    throw invalid(
      `the connection URL has sslrootcert=system with ${sslmode === false ? 'TLS turned off' : `sslmode=${String(sslmode)}`}: "system" means verify the server against the trusted root CAs with verify-full, and libpq refuses any weaker setting with it`,
      'drop the sslmode (or use sslmode=verify-full) to verify against the trusted roots, or drop sslrootcert=system',
    )
  }
  // An explicit `dialectOptions.ssl` wins over everything TLS in the URL, files included (they are
  // then not read). Otherwise certificate files become the user's own TLS material, read the way
  // pg-connection-string reads them for Sequelize's own URL handling (sslrootcert → `ca`), and
  // verification stays on: any sslmode but disable/no-verify verifies chain and host name.
  if (
    given?.ssl === undefined &&
    Object.keys(files).length > 0 &&
    sslmode !== false &&
    sslmode !== 'disable'
  ) {
    const material: Record<string, unknown> = {}
    for (const [param, path] of Object.entries(files) as [CertificateParam, string][]) {
      material[CERTIFICATE_PARAMS[param]] = readCertificateFile(param, path)
    }
    // no-verify is kept as `rejectUnauthorized: false`, so core refuses it as insecure.
    query.ssl = sslmode === 'no-verify' ? { ...material, rejectUnauthorized: false } : material
  } else if (sslmode !== undefined) query.ssl = sslmode
  if (Object.keys(query).length > 0) {
    // As in Sequelize, the URL's query joins dialectOptions; an explicit `ssl` object wins.
    out.dialectOptions = { ...query, ...given }
  }
  return out
}

/** libpq's certificate-file parameters and the TLS option each one's file becomes. */
const CERTIFICATE_PARAMS = { sslrootcert: 'ca', sslcert: 'cert', sslkey: 'key' } as const
type CertificateParam = keyof typeof CERTIFICATE_PARAMS

function isCertificateParam(key: string): key is CertificateParam {
  return Object.hasOwn(CERTIFICATE_PARAMS, key)
}

/** A certificate file named in the URL; unreadable is a config error, raised before any traffic. */
function readCertificateFile(param: CertificateParam, path: string): string | string[] {
  // libpq's "the trusted system roots": core's nodeDefaultCa() (Node's default roots, plus the OS
  // store with --use-system-ca and NODE_EXTRA_CA_CERTS), as @rds-iam/pg does. Named explicitly,
  // since an ssl object without a `ca` gets the RDS bundle.
  if (param === 'sslrootcert' && path === 'system') return nodeDefaultCa()
  try {
    return readFileSync(path, 'utf8')
  } catch (cause) {
    throw new RdsIamError(
      'RDS_IAM_INVALID_OPTIONS',
      `the connection URL's ${param} file ${JSON.stringify(path)} could not be read`,
      `fix the path in ${param}= (relative paths are resolved from the working directory), or drop it and pass dialectOptions.ssl: { ${CERTIFICATE_PARAMS[param]}: … } instead`,
      { cause },
    )
  }
}
