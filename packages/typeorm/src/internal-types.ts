/** The parts of a TypeORM `DataSource` the adapter reads to find its pools (0.3 and 1.x agree). */
export interface DataSourceLike {
  driver?: unknown
}

/** TypeORM's PostgresDriver after `initialize()`: one pool for the primary, one per replica. */
export interface PostgresDriverState {
  master?: object
  slaves?: object[]
}

/** TypeORM's MysqlDriver after `initialize()`: a pool, or a mysql2 pool cluster with replication. */
export interface MysqlDriverState {
  pool?: object
  poolCluster?: { _nodes?: Record<string, { pool?: object } | undefined> }
}

/** One place TypeORM connects to: the top-level options, or a `replication` master/slave entry. */
export interface ConnectionTarget {
  url?: unknown
  host?: unknown
  port?: unknown
  username?: unknown
  password?: unknown
  database?: unknown
  ssl?: unknown
  socketPath?: unknown
}
