const PG_AUTH_CODES = new Set(['28000', '28P01'])
// MariaDB answers an unknown user with 1698 instead of 1045 on some handshakes.
const MYSQL_AUTH_CODES = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR'])
const MYSQL_AUTH_ERRNOS = new Set([1045, 1698])
// Prisma maps 28P01 → P1000 and 28000 → P1010.
const PRISMA_AUTH_CODES = new Set(['P1000', 'P1010'])
const PAM_MESSAGE = /PAM authentication failed/i
const MAX_DEPTH = 8

function isDirectAuthError(err: Record<string, unknown>): boolean {
  const code = err.code
  if (
    typeof code === 'string' &&
    (PG_AUTH_CODES.has(code) || MYSQL_AUTH_CODES.has(code) || PRISMA_AUTH_CODES.has(code))
  ) {
    return true
  }
  if (typeof err.errno === 'number' && MYSQL_AUTH_ERRNOS.has(err.errno)) return true
  if (typeof err.message === 'string' && PAM_MESSAGE.test(err.message)) return true
  return false
}

/**
 * True when an error means "the database refused these credentials": pg SQLSTATE 28000/28P01 or
 * the PAM message, MySQL errno 1045 / `ER_ACCESS_DENIED_ERROR` (and MariaDB's 1698), also when an ORM wraps it in
 * `cause`, `parent`, `original` or an AggregateError's `errors`. Cycle-safe.
 *
 * @example
 * ```ts
 * if (isAuthError(err)) provider.invalidate()
 * ```
 */
export function isAuthError(err: unknown): boolean {
  const seen = new Set<object>()
  const visit = (value: unknown, depth: number): boolean => {
    if (typeof value !== 'object' || value === null || depth > MAX_DEPTH || seen.has(value)) return false
    seen.add(value)
    const rec = value as Record<string, unknown>
    if (isDirectAuthError(rec)) return true
    for (const key of ['cause', 'parent', 'original'] as const) {
      if (visit(rec[key], depth + 1)) return true
    }
    if (Array.isArray(rec.errors)) {
      for (const inner of rec.errors) if (visit(inner, depth + 1)) return true
    }
    return false
  }
  return visit(err, 0)
}
