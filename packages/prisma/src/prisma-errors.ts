import { inspect } from 'node:util'
import { isAuthError, isRdsIamError, type RdsIamError } from '@rds-iam/core'

// Where the original RdsIamError rides inside a Prisma error's `meta`. Prisma rebuilds the error
// it throws from `code`, `message` and a spread of `meta` only (no `cause`); a spread copies
// enumerable symbol keys, and JSON.stringify skips them, so logs of `meta` stay as Prisma's.
const ORIGINAL = Symbol.for('rds-iam.prisma.original-error')

const MAX_DEPTH = 8

/**
 * True when an error — a driver error, a Prisma `PrismaClientKnownRequestError`, or a
 * `DriverAdapterError` — means "the database refused the credentials". The same as core's
 * `isAuthError`, which reads pg 28000/28P01, MySQL 1045, Prisma P1000/P1010 and the shapes Prisma 7
 * gives driver-adapter failures: P2010/P2039 with `meta.driverAdapterError.cause.originalCode`
 * `28000`/`28P01`/`1045`, and the mariadb pool's timeout `45028` whose cause is an access denial.
 * An error rds-iam gave up on (`RDS_IAM_*`) is never an auth error to retry.
 *
 * @example
 * ```ts
 * try { await prisma.user.findMany() } catch (err) {
 *   if (isPrismaAuthError(err)) getTokenProvider(adapter)?.invalidate()
 * }
 * ```
 */
export function isPrismaAuthError(err: unknown): boolean {
  // Core reads Prisma's shapes itself; kept as this package's name for it.
  return isAuthError(err)
}

/**
 * The `RdsIamError` behind an error Prisma threw. Prisma turns an adapter's error into a
 * `PrismaClientKnownRequestError` that keeps its `code` (`RDS_IAM_AUTH_FAILED`, …) and message
 * (with the hint) but drops `cause`; this returns the original, whose `cause` is the driver error.
 *
 * @example
 * ```ts
 * try { await prisma.user.findMany() } catch (err) {
 *   const iam = getRdsIamError(err)
 *   if (iam) console.error(iam.code, iam.hint, iam.cause)
 * }
 * ```
 */
export function getRdsIamError(err: unknown): RdsIamError | undefined {
  const seen = new Set<object>()
  let current: unknown = err
  for (let depth = 0; depth <= MAX_DEPTH; depth++) {
    if (typeof current !== 'object' || current === null || seen.has(current)) return undefined
    seen.add(current)
    if (isRdsIamError(current)) return current
    const meta = (current as { meta?: Record<PropertyKey, unknown> }).meta
    const carried = (meta?.[ORIGINAL] as OriginalError | undefined)?.error
    if (isRdsIamError(carried)) return carried
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

/**
 * Gives an `RdsIamError` leaving a driver adapter the `meta` Prisma copies onto the error it throws:
 * `meta.rdsIam = { code, hint }`, the driver error's code and message as `meta.cause`, and the
 * error itself for {@link getRdsIamError}. Other errors pass through unchanged.
 */
export function prepareForPrisma(err: unknown): unknown {
  if (!isRdsIamError(err) || Object.hasOwn(err, 'meta')) return err
  const cause = err.cause as { code?: unknown; errno?: unknown; message?: unknown } | undefined
  const meta: Record<PropertyKey, unknown> = {
    rdsIam: { code: err.code, hint: err.hint },
    ...(cause && typeof cause === 'object'
      ? {
          cause: {
            code: cause.code ?? cause.errno,
            message: typeof cause.message === 'string' ? cause.message : undefined,
          },
        }
      : {}),
    [ORIGINAL]: new OriginalError(err),
  }
  Object.defineProperty(err, 'meta', { value: meta, enumerable: false, configurable: true, writable: true })
  return err
}

/** Carries the original error inside `meta` without printing it a second time in `util.inspect`. */
class OriginalError {
  declare readonly error: RdsIamError
  constructor(error: RdsIamError) {
    Object.defineProperty(this, 'error', { value: error, enumerable: false })
  }
  [inspect.custom](): string {
    return `[${this.error.name} ${this.error.code}: see getRdsIamError()]`
  }
}
