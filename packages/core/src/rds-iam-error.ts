import type { RdsIamErrorCode } from './codes.js'

// A registered symbol is the same in every copy of core (ESM and CJS builds, two installs), so
// an error made by one copy is recognised by the others.
const BRAND = Symbol.for('rds-iam.error')

/**
 * True when `value` is an {@link RdsIamError} from any copy of `@rds-iam/core` loaded in this
 * process (the ESM and CommonJS builds each have their own class). A type guard.
 *
 * @example
 * ```ts
 * try { await pool.query('select 1') } catch (err) {
 *   if (isRdsIamError(err) && err.code === 'RDS_IAM_AUTH_FAILED') console.error(err.hint)
 * }
 * ```
 */
export function isRdsIamError(value: unknown): value is RdsIamError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [BRAND]?: unknown })[BRAND] === true &&
    typeof (value as { code?: unknown }).code === 'string'
  )
}

/**
 * The one error type rds-iam throws. `code` is stable (see `codes.ts`), `hint` names the fix,
 * `cause` keeps the driver's or SDK's error. Messages never contain a token or a secret.
 * `instanceof RdsIamError` holds for errors from any copy of core in the process (see
 * {@link isRdsIamError}).
 *
 * @example
 * ```ts
 * try { await pool.query('select 1') } catch (err) {
 *   if (err instanceof RdsIamError) console.error(err.code, err.hint)
 * }
 * ```
 */
export class RdsIamError extends Error {
  /** Stable machine-readable code, e.g. `RDS_IAM_NO_REGION`. */
  readonly code: RdsIamErrorCode
  /** What to change to make the error go away. */
  readonly hint: string

  constructor(code: RdsIamErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(`${message} (${code}). Hint: ${hint}`, options)
    this.name = 'RdsIamError'
    this.code = code
    this.hint = hint
    Object.defineProperty(this, BRAND, { value: true })
  }

  // Subclasses keep ordinary prototype checks; the base class recognises every copy's errors.
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class on the right of instanceof (maybe a subclass)
    if (this === RdsIamError) return isRdsIamError(value)
    // biome-ignore lint/complexity/noThisInStatic: a subclass keeps the ordinary prototype check
    return Function.prototype[Symbol.hasInstance].call(this, value)
  }
}

/**
 * Builds the error an adapter throws when the driver in use cannot take a per-connection token.
 *
 * @example
 * ```ts
 * throw unsupportedDriver('pg-native', 'use the pure JavaScript pg driver (remove `native: true`)')
 * ```
 */
export function unsupportedDriver(driver: string, hint: string): RdsIamError {
  return new RdsIamError('RDS_IAM_UNSUPPORTED_DRIVER', `${driver} cannot use IAM authentication tokens`, hint)
}
