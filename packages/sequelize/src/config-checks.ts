import { RdsIamError, unsupportedDriver } from '@rds-iam/core'
import { type IamDialect, invalid } from './endpoint-registry.js'
import type { EndpointConfig } from './internal-types.js'
import { SUPPORTED_DIALECTS } from './supported-versions.js'

/** The dialect named in the options, checked: IAM needs a driver that takes a password per connection. */
export function checkDialect(dialect: unknown): IamDialect {
  if (dialect === undefined || dialect === null || dialect === '') {
    throw invalid(
      'no `dialect`: Sequelize needs one, and IAM needs to know the driver',
      "set dialect: 'postgres' or 'mysql'",
    )
  }
  const name = dialect === 'postgresql' ? 'postgres' : dialect
  if ((SUPPORTED_DIALECTS as readonly unknown[]).includes(name)) return name as IamDialect
  if (name === 'mariadb') {
    // Checked with mariadb 3.4.5: talking to a MariaDB server, the connector turns certificate
    // checks off for the TLS handshake and verifies the certificate only after the login, i.e.
    // after the password (the token) went to whoever answered. See the README's design notes.
    throw new RdsIamError(
      'RDS_IAM_UNSUPPORTED_DRIVER',
      "dialect 'mariadb' cannot carry an IAM token safely: the mariadb connector sends the password to a MariaDB server before it has verified the server's certificate",
      "use dialect: 'mysql' (the mysql2 driver, npm install mysql2): it works against RDS for MariaDB, RDS for MySQL and Aurora MySQL, and verifies the certificate before the token is sent",
    )
  }
  throw new RdsIamError(
    'RDS_IAM_UNSUPPORTED_DRIVER',
    `dialect ${JSON.stringify(dialect)} cannot use RDS IAM authentication`,
    "RDS IAM authentication exists for PostgreSQL and MySQL/MariaDB only: use dialect: 'postgres' or 'mysql' (mysql2, also for RDS for MariaDB and Aurora MySQL)",
  )
}

/** A static password and `iam` together are a mistake: the token is the password. */
export function checkNoPassword(config: EndpointConfig | undefined, where: string): void {
  const password = config?.password
  if (password !== undefined && password !== null && password !== '') {
    throw invalid(
      `\`iam\` cannot be combined with a password (${where}): the IAM token is the password`,
      `remove the password from ${where} (and from the connection URL), or remove \`iam\` to log in with a password`,
    )
  }
}

/** Sequelize's `native: true` (and a `pg.native` dialect module) is libpq, which never asks for a per-connection password. */
export function checkNotNative(native: unknown, dialectModule: unknown): void {
  const nativeHint =
    'remove `native: true` and use the JavaScript pg driver: libpq never asks for a per-connection password, so it cannot take a fresh token'
  if (native) throw unsupportedDriver('pg-native', nativeHint)
  const Client = (dialectModule as { Client?: unknown } | null | undefined)?.Client
  if (typeof Client !== 'function') return
  const proto = Client.prototype as Record<string, unknown> | undefined
  if (!proto || typeof proto._handleAuthCleartextPassword !== 'function') {
    throw unsupportedDriver(
      'pg-native',
      'pass the JavaScript pg module as `dialectModule` (pg, not pg.native)',
    )
  }
}

/** The writer and readers of `replication`, with the top-level values Sequelize fills in (its `_.defaults`). */
export function endpointConfigs(
  top: EndpointConfig,
  replication: unknown,
): { config: EndpointConfig; where: string }[] {
  if (!replication) return [{ config: top, where: 'the options' }]
  if (typeof replication !== 'object') {
    throw invalid('`replication` must be an object', 'use replication: { write: { host }, read: [{ host }] }')
  }
  const { write, read } = replication as { write?: EndpointConfig; read?: EndpointConfig | EndpointConfig[] }
  const reads = read === undefined ? [] : Array.isArray(read) ? read : [read]
  const withTop = (own: EndpointConfig | undefined): EndpointConfig => {
    const merged: EndpointConfig = { ...top }
    for (const [k, v] of Object.entries(own ?? {})) if (v !== undefined) merged[k] = v
    return merged
  }
  return [
    { config: withTop(write), where: 'replication.write' },
    ...reads.map((r, i) => ({ config: withTop(r), where: `replication.read[${i}]` })),
  ]
}
