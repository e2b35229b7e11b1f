import type { IamOptions, TokenProviderStats } from '@rds-iam/core'

/**
 * An engine the suite can run against; all go through the emulator. `dsql`: the emulator as
 * Aurora DSQL (DSQL tokens, roles mapped to the test key) in front of the local PostgreSQL.
 */
export type Engine = 'postgres' | 'pglite' | 'mysql' | 'dsql'

/** The case names of the conformance suite (DESIGN §7); a capability may skip one, with a reason. */
export type ConformanceCase =
  | 'tls-connect'
  | 'token-cache'
  | 'forced-expiry'
  | 'transient-rejections'
  | 'permanent-rejection'
  | 'policy-denied'
  | 'tls-required'
  | 'cold-storm'
  | 'failover-recovery'
  | 'aged-pool-reconnect'
  | 'writes-across-expiry'
  | 'dsql-admin'

/** What the suite hands an adapter to open a pool: driver-neutral connection settings. */
export interface ConnectionSettings {
  host: string
  port: number
  /** The IAM database user (the token is signed for it). */
  user: string
  database: string
  /** `{ ca }` of the emulator (the user's own ssl, which wins), or `false` for the no-TLS case. */
  ssl: { ca: string } | false
  iam: IamOptions
}

/** Rows as plain objects, whatever the driver returns. */
export type Row = Record<string, unknown>

/** One physical connection held out of the pool. */
export interface ConnectionHandle {
  query(sql: string): Promise<Row[]>
  /** Gives the connection back; `destroy` closes it so the next acquire opens a new one. */
  release(destroy?: boolean): Promise<void> | void
}

/** A pool opened through the adapter under test. */
export interface PoolHandle {
  /** A query through the pool (acquire, run, release). */
  query(sql: string): Promise<Row[]>
  /** Holds a connection until `release()`. */
  acquire(): Promise<ConnectionHandle>
  /** The adapter's token provider counters (core's `stats()`). */
  tokenStats(): TokenProviderStats
  /** The object a user would log (pool), to check no token leaks through `util.inspect`. */
  inspectTarget(): unknown
  close(): Promise<void>
}

/** Pool sizing for {@link ConformanceHarness.open}. */
export interface OpenOptions {
  /** Pool size. */
  max: number
  /**
   * How long a caller may wait for a pooled connection, where the driver or ORM has such a limit
   * (default: the harness's own, a few seconds). The reliability suite oversubscribes pools on
   * purpose and raises it, so a slow machine shows up in its figures, not as acquire timeouts.
   */
  acquireTimeoutMs?: number
}

/** What an adapter supplies to run the suite. */
export interface ConformanceHarness {
  /** Shown in test names, e.g. `pg` or `mysql2/promise`. */
  adapter: string
  /** Engines this adapter supports; narrowed further by `RDS_IAM_TEST_ENGINES`. */
  engines: Engine[]
  /** Opens a pool; may throw synchronously-in-async (e.g. a typed config error). */
  open(settings: ConnectionSettings, options: OpenOptions): Promise<PoolHandle>
  /**
   * Cases this adapter × engine cannot run, each with the reason (the only way a case is
   * skipped; shown as a skipped test named with the reason).
   */
  capabilities?: Partial<Record<Engine, Partial<Record<ConformanceCase, string>>>>
}
