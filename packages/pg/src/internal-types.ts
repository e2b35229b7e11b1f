import type { ConnectionAuth, IamOptions, TokenProvider } from '@rds-iam/core'

/** The part of the `pg` module the adapter uses (pg itself, an injected copy, or `pg.native`). */
export interface PgModuleLike {
  Pool: new (config?: never) => unknown
  Client: new (config?: never) => unknown
}

/** A pg config after `iam` was applied: what the adapter keeps beside the pool or client. */
export interface PreparedIam<C> {
  /** The config handed to pg: no `iam`, no `connectionString`, a password function, TLS settled. */
  config: C
  provider: TokenProvider
  iam: IamOptions
  /** Prepares each new connection before its socket opens, and supplies its token. */
  auth: ConnectionAuth
}
