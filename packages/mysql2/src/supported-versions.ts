/**
 * The mysql2 versions this adapter supports and is tested with. Kept equal to the `mysql2` peer
 * dependency range and to the README's "Supported versions" section.
 *
 * @example
 * ```ts
 * import { SUPPORTED_MYSQL2_VERSIONS } from '@rds-iam/mysql2'
 * ```
 */
export const SUPPORTED_MYSQL2_VERSIONS = '>=3.9.0 <4'
