/**
 * The Prisma versions this package supports and is tested with (`@prisma/client`,
 * `@prisma/adapter-pg`, `@prisma/adapter-mariadb`). Kept equal to the peer dependency ranges and to
 * the README's "Supported versions" section.
 *
 * @example
 * ```ts
 * import { SUPPORTED_PRISMA_VERSIONS } from '@rds-iam/prisma'
 * console.log(`@rds-iam/prisma works with Prisma ${SUPPORTED_PRISMA_VERSIONS}`)
 * ```
 */
export const SUPPORTED_PRISMA_VERSIONS = '>=7.10.0 <8'

/**
 * The `mariadb` connector versions the MariaDB/MySQL adapter is tested with. The adapter relies on
 * an undocumented connector behaviour (see the README's Design notes), so the range is exact:
 * `@prisma/adapter-mariadb` 7.10 pins `mariadb` 3.4.5.
 *
 * @example
 * ```ts
 * import { SUPPORTED_MARIADB_CONNECTOR_VERSIONS } from '@rds-iam/prisma'
 * console.log(SUPPORTED_MARIADB_CONNECTOR_VERSIONS)
 * ```
 */
export const SUPPORTED_MARIADB_CONNECTOR_VERSIONS = '3.4.5'
