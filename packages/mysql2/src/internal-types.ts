import type { ConnectionAuth, IamOptions, TokenProvider } from '@rds-iam/core'
import type { PreparedHandoff } from './prepared-socket.js'

/** A mysql2 config after `iam` was applied, plus what the adapter keeps beside the pool. */
export interface PreparedIam {
  config: Record<string, unknown>
  provider: TokenProvider
  iam: IamOptions
  /** The checked endpoint and the per-connection token hooks (`prepare`, `nextToken`). */
  auth: ConnectionAuth
  /** Set by a caller that ran `auth.prepare()` just before mysql2 builds a connection. */
  handoff: PreparedHandoff
}

/** The callback API of mysql2 this adapter uses (the application's copy, or an injected one). */
export interface Mysql2ModuleLike {
  createPool(config: object): unknown
  createConnection(config: object): unknown
  createPoolCluster(config?: object): unknown
}

/** The promise API of mysql2 (`mysql2/promise`) this adapter uses. */
export interface Mysql2PromiseModuleLike {
  createConnection(config: object): Promise<unknown>
}
