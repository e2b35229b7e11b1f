/**
 * The Sequelize versions this adapter supports and is tested with (the lowest and the newest 6.x).
 * Kept equal to the `sequelize` peer dependency range and to the README's "Supported versions".
 *
 * @example
 * ```ts
 * import { SUPPORTED_SEQUELIZE_VERSIONS } from '@rds-iam/sequelize'
 * console.log(`@rds-iam/sequelize works with sequelize ${SUPPORTED_SEQUELIZE_VERSIONS}`)
 * ```
 */
export const SUPPORTED_SEQUELIZE_VERSIONS = '>=6.29.0 <7'

/**
 * The Sequelize dialects IAM works with: each one's driver sends the password Sequelize gives it
 * per connection (where the token goes), and only after it verified the server's certificate.
 * `mariadb` is refused (see the README); `mysql` serves RDS for MariaDB too.
 *
 * @example
 * ```ts
 * import { SUPPORTED_DIALECTS } from '@rds-iam/sequelize'
 * SUPPORTED_DIALECTS.includes('mysql') // true
 * ```
 */
export const SUPPORTED_DIALECTS = ['postgres', 'mysql'] as const
