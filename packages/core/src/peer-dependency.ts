import { createRequire } from 'node:module'
import { RdsIamError } from './rds-iam-error.js'

/**
 * Loads a driver or ORM the application installed, resolved from the adapter's own location:
 * it is a peer dependency, so that finds the application's copy (npm hoists it; pnpm links the
 * peer beside the adapter). A missing module is an `RDS_IAM_UNSUPPORTED_DRIVER` naming the fix.
 *
 * @param id module to load, e.g. `'pg'` or `'mysql2/promise'`
 * @param from the adapter's `import.meta.url` (or `__filename`)
 * @param fix what the user should do, e.g. how to install or inject the module
 *
 * @example
 * ```ts esm-only: an adapter passes its own import.meta.url
 * const pg = requirePeer<PgModuleLike>('pg', import.meta.url, 'npm install pg, or pass your copy: createPool(config, { pg })')
 * ```
 */
export function requirePeer<T>(id: string, from: string, fix: string): T {
  try {
    return createRequire(from)(id) as T
  } catch (cause) {
    throw new RdsIamError('RDS_IAM_UNSUPPORTED_DRIVER', `${id} could not be loaded`, fix, { cause })
  }
}
