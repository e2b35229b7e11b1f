/**
 * The TypeORM versions this adapter supports and is tested with (lowest and newest of each
 * major). Kept equal to the `typeorm` peer dependency range and to the README's "Supported
 * versions" section.
 *
 * @example
 * ```ts
 * import { SUPPORTED_TYPEORM_VERSIONS } from '@rds-iam/typeorm'
 * console.log(`@rds-iam/typeorm works with typeorm ${SUPPORTED_TYPEORM_VERSIONS}`)
 * ```
 */
export const SUPPORTED_TYPEORM_VERSIONS = '>=0.3.20 <0.4 || >=1.0.0 <2'
