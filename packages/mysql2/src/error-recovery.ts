import { RdsIamError } from '@rds-iam/core'

// Older mysql2 promise wrappers (before ~3.14) reject with a new Error that copies only message,
// code and errno, and mysql2 rewrites `code` on errors thrown by auth plugins. Errors this adapter
// hands to mysql2 are remembered by message (a short, bounded list) so the promise API can give
// the caller the original RdsIamError, with its hint and cause, on every supported version.
const RECENT_LIMIT = 64
const recent = new Map<string, Error>()

/** Remembers an error on its way into mysql2; returns it. */
export function rememberError<E>(err: E): E {
  if (err instanceof Error) {
    recent.delete(err.message)
    recent.set(err.message, err)
    if (recent.size > RECENT_LIMIT) recent.delete(recent.keys().next().value as string)
  }
  return err
}

/**
 * The original error behind what mysql2 handed back: the RdsIamError a plugin threw or a retry
 * produced, when `err` is mysql2's wrapper or copy of it; otherwise `err` unchanged.
 */
export function recoverError(err: unknown): unknown {
  if (err instanceof RdsIamError || !(err instanceof Error)) return err
  const code = (err as { code?: unknown }).code
  const ours =
    code === 'AUTH_SWITCH_PLUGIN_ERROR' || (typeof code === 'string' && code.startsWith('RDS_IAM_'))
  if (!ours) return err
  let original = recent.get(err.message)
  // A plugin failure is remembered as the wrapper; the caller wants what the wrapper carries.
  while (original && !(original instanceof RdsIamError) && original.cause instanceof Error) {
    original = original.cause
  }
  return original instanceof RdsIamError ? original : err
}
