/**
 * The node-postgres versions this adapter supports and is tested with. Kept equal to the `pg`
 * peer dependency range and to the README's "Supported versions" section.
 *
 * @example
 * ```ts
 * import { SUPPORTED_PG_VERSIONS } from '@rds-iam/pg'
 * console.log(`@rds-iam/pg works with pg ${SUPPORTED_PG_VERSIONS}`)
 * ```
 */
export const SUPPORTED_PG_VERSIONS = '>=8.11.0 <9'
