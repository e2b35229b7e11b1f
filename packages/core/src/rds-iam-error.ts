import type { RdsIamErrorCode } from './codes.js'

/**
 * The one error type rds-iam throws. `code` is stable (see `codes.ts`), `hint` names the fix,
 * `cause` keeps the driver's or SDK's error. Messages never contain a token or a secret.
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
