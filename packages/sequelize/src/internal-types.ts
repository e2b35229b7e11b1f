/**
 * The part of a Sequelize connection config the adapter reads: what the connection manager hands
 * `beforeConnect` and its dialect's `connect()` (one object per endpoint: the top-level config, or
 * each of `replication.write` and `replication.read[i]`).
 */
export interface EndpointConfig {
  host?: string
  port?: number | string
  username?: string
  password?: unknown
  dialectOptions?: Record<string, unknown>
  [key: string]: unknown
}

/** The part of Sequelize's connection manager the adapter touches (6.x, every dialect). */
export interface ConnectionManagerLike {
  connect(config: EndpointConfig): Promise<unknown>
  config: EndpointConfig & {
    native?: boolean
    replication?: false | { write?: EndpointConfig; read?: EndpointConfig[] | EndpointConfig }
  }
  lib?: { Client?: unknown }
  /** sequelize-pool's `Pool`, or `{ read, write }` pools with `replication`. */
  pool?: unknown
}

/** The part of a Sequelize instance the adapter touches; typed structurally so no import of sequelize is needed at run time. */
export interface SequelizeLike {
  getDialect(): string
  addHook(type: 'beforeConnect', name: string, fn: (config: EndpointConfig) => Promise<void>): unknown
  options: { hooks?: Record<string, unknown>; dialect?: string; native?: boolean }
  config: EndpointConfig
  connectionManager: ConnectionManagerLike
}
