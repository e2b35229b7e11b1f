/**
 * The Knex versions this adapter supports and is tested with (3.2.5 and the newest 3.x). Kept
 * equal to the `knex` peer dependency range and to the README's "Supported versions" section.
 * Older knex (2.x, 3.0–3.1) is untested, so not claimed.
 *
 * @example
 * ```ts
 * import { SUPPORTED_KNEX_VERSIONS } from '@rds-iam/knex'
 * console.log(`@rds-iam/knex works with knex ${SUPPORTED_KNEX_VERSIONS}`)
 * ```
 */
export const SUPPORTED_KNEX_VERSIONS = '>=3.2.5 <4'
