import { isRdsIamError } from './rds-iam-error.js'

const PG_AUTH_CODES = new Set(['28000', '28P01'])
// MariaDB answers an unknown user with 1698 instead of 1045 on some handshakes.
const MYSQL_AUTH_CODES = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR'])
const MYSQL_AUTH_ERRNOS = new Set([1045, 1698])
// Prisma maps 28P01 → P1000 and 28000 → P1010.
const PRISMA_AUTH_CODES = new Set(['P1000', 'P1010'])
const PAM_MESSAGE = /PAM authentication failed/i
// Prisma 7 driver adapters report the driver's code as `originalCode` (a string): the SQLSTATE for
// pg, the errno for mariadb, inside P2010's `meta.driverAdapterError.cause` or a DriverAdapterError's `cause`.
const ORIGINAL_AUTH_CODES = new Set(['28000', '28P01', '1045', '1698'])
// The mariadb pool's ER_GET_CONNECTION_TIMEOUT family (Prisma P2039 / P2010): a refused login shows
// only in its message or cause, never in its own code.
const POOL_TIMEOUT_CODES = new Set(['45028', '45044', '45045'])
const ACCESS_DENIED_MESSAGE = /access denied/i
// Aurora DSQL ("IAM authentication failed for user …", its troubleshooting guide) and RDS Proxy
// for PostgreSQL ("IAM authentication failed for user …", "The IAM authentication failed for the
// role …", "… because of too many competing requests"): neither documents the SQLSTATE, so the text
// is matched too. https://docs.aws.amazon.com/aurora-dsql/latest/userguide/troubleshooting.html,
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.troubleshooting.html
const IAM_FAILED_MESSAGE = /IAM authentication failed/i
// RDS's pg_hba has `hostssl … +rds_iam … pam`: a plain-TCP login is refused with SQLSTATE 28000
// too, but no token was even asked for, so a new token cannot help. RDS Proxy words it its own
// way (PostgreSQL: "This RDS Proxy requires TLS connections.", "IAM authentication is allowed only
// with SSL connections."; MySQL: ERROR 3159 with the same first text).
const NO_ENCRYPTION_MESSAGE =
  /pg_hba\.conf rejects connection .*no encryption|RDS Proxy requires TLS connections|IAM (?:authentication )?is allowed only with SSL connections/i
// RDS Proxy's own capacity refusals (MaxConnectionsPercent reached, client-connection and rate
// limits). They are not about the token: re-signing and retrying at once would only add load, so
// they pass through to the caller untouched, whatever SQLSTATE or errno they carry. Texts from
// the RDS Proxy troubleshooting guide (PostgreSQL and MySQL tables; MySQL: 1040, 9501).
const PROXY_CAPACITY_MESSAGE =
  /Timed-out waiting to acquire database connection|maximum number of client connections to the proxy exceeded|Rate of connection to proxy exceeded|Connections rate limit exceeded|Number simultaneous connections exceeded/i
const MAX_DEPTH = 8
const WRAPPER_KEYS = ['cause', 'parent', 'original', 'driverAdapterError'] as const

// Prisma's serialised adapter errors may carry the driver's refusal as a string `cause`.
function messages(err: Record<string, unknown>): string {
  return [err.message, err.originalMessage, err.cause]
    .filter((m): m is string => typeof m === 'string')
    .join('\n')
}

function isDirectAuthError(err: Record<string, unknown>): boolean {
  const code = err.code
  if (
    typeof code === 'string' &&
    (PG_AUTH_CODES.has(code) || MYSQL_AUTH_CODES.has(code) || PRISMA_AUTH_CODES.has(code))
  ) {
    return true
  }
  if (typeof err.errno === 'number' && MYSQL_AUTH_ERRNOS.has(err.errno)) return true
  if (
    typeof err.message === 'string' &&
    (PAM_MESSAGE.test(err.message) || IAM_FAILED_MESSAGE.test(err.message))
  )
    return true
  if (err.originalCode !== undefined && err.originalCode !== null) {
    const original = String(err.originalCode)
    if (ORIGINAL_AUTH_CODES.has(original)) return true
    if (POOL_TIMEOUT_CODES.has(original) && ACCESS_DENIED_MESSAGE.test(messages(err))) return true
  }
  return false
}

function isProxyCapacityRecord(err: Record<string, unknown>): boolean {
  return typeof err.message === 'string' && PROXY_CAPACITY_MESSAGE.test(err.message)
}

/**
 * True when RDS Proxy refused a connection for capacity (its `MaxConnectionsPercent` pool is
 * exhausted: "Timed-out waiting to acquire database connection", or a client-connection / rate
 * limit), also when wrapped. These are never authentication errors. Never true for an `RdsIamError`.
 *
 * @example
 * ```ts
 * if (isProxyCapacityError(err)) await backOff() // not a token problem
 * ```
 */
export function isProxyCapacityError(err: unknown): boolean {
  return findInChain(err, (rec) => (isProxyCapacityRecord(rec) ? 'match' : 'continue'))
}

function isTlsRefusalRecord(err: Record<string, unknown>): boolean {
  return NO_ENCRYPTION_MESSAGE.test(messages(err))
}

/**
 * Walks an error and the errors it wraps (ORMs put the driver's in `cause`, `parent`,
 * `original` or an AggregateError's `errors`). Stops at any {@link RdsIamError}: an error
 * rds-iam already produced (e.g. an exhausted retry) is a final verdict, never re-judged.
 */
function findInChain(
  err: unknown,
  test: (rec: Record<string, unknown>) => 'match' | 'stop' | 'continue',
): boolean {
  const seen = new Set<object>()
  const visit = (value: unknown, depth: number): boolean => {
    if (typeof value !== 'object' || value === null || depth > MAX_DEPTH || seen.has(value)) return false
    seen.add(value)
    if (isRdsIamError(value)) return false
    const rec = value as Record<string, unknown>
    const verdict = test(rec)
    if (verdict === 'match') return true
    if (verdict === 'stop') return false
    for (const key of WRAPPER_KEYS) {
      if (visit(rec[key], depth + 1)) return true
    }
    // Prisma's PrismaClientKnownRequestError (P2010, P2039) keeps the adapter's error in `meta`.
    const meta = rec.meta
    if (typeof meta === 'object' && meta !== null) {
      if (visit((meta as Record<string, unknown>).driverAdapterError, depth + 1)) return true
    }
    if (Array.isArray(rec.errors)) {
      for (const inner of rec.errors) if (visit(inner, depth + 1)) return true
    }
    return false
  }
  return visit(err, 0)
}

/**
 * True when an error means "the database refused these credentials": pg SQLSTATE 28000/28P01 or
 * the PAM message, MySQL errno 1045 / `ER_ACCESS_DENIED_ERROR` (and MariaDB's 1698), also when an ORM wraps it in
 * `cause`, `parent`, `original` or an AggregateError's `errors`. Cycle-safe.
 *
 * Always false for an `RdsIamError` (and never looks inside one): `RDS_IAM_AUTH_FAILED` wraps the
 * driver's refusal as its `cause`, and retrying it again would multiply logins. Prisma 7's
 * driver-adapter shapes count too: P2010/P2039 with `meta.driverAdapterError.cause.originalCode`
 * `28000`/`28P01`/`1045`/`1698`, a `DriverAdapterError` whose `cause.originalCode` is one of
 * those, and the mariadb pool's timeout (`originalCode` 45028) whose message or cause is an
 * access denial. Also false for
 * PostgreSQL's `pg_hba.conf rejects connection … no encryption` (and RDS Proxy's "requires TLS"),
 * a TLS refusal that no new token can fix, and for RDS Proxy's capacity refusals
 * ({@link isProxyCapacityError}). Also true for Aurora DSQL's and RDS Proxy's
 * "IAM authentication failed …" texts, whose SQLSTATE is not documented.
 *
 * @example
 * ```ts
 * if (isAuthError(err)) provider.invalidate()
 * ```
 */
export function isAuthError(err: unknown): boolean {
  return findInChain(err, (rec) => {
    if (isTlsRefusalRecord(rec) || isProxyCapacityRecord(rec)) return 'stop'
    return isDirectAuthError(rec) ? 'match' : 'continue'
  })
}

/**
 * True when the server refused the connection because it did not use TLS (PostgreSQL's
 * `pg_hba.conf rejects connection … no encryption`), also when wrapped. Never true for an
 * `RdsIamError`.
 * @internal
 */
export function isTlsRefusal(err: unknown): boolean {
  return findInChain(err, (rec) => (isTlsRefusalRecord(rec) ? 'match' : 'continue'))
}
