import type { IamLogger } from './iam-options.js'

/**
 * Hands one line to `iam.logger`. A logger that throws (a common cause: methods passed unbound, as
 * `{ debug: log.debug }`) or returns a rejected promise is ignored: logging is a side channel and
 * must never fail a signing or, from a background refresh nobody awaits, crash the process with an
 * unhandled rejection.
 * @internal
 */
export function safeLog(logger: IamLogger | undefined, level: 'debug' | 'warn', message: string): void {
  if (!logger) return
  try {
    const result: unknown = logger[level](message)
    if (
      result !== null &&
      typeof result === 'object' &&
      typeof (result as Promise<unknown>).then === 'function'
    ) {
      ;(result as Promise<unknown>).then(undefined, () => {})
    }
  } catch {
    // Ignored on purpose, see above.
  }
}
