import type { IamOptions, TokenProvider } from '@rds-iam/core'

/** The driver behind a knex client name this adapter supports. */
export type DriverKind = 'pg' | 'mysql2'

/** The part of the `knex` module the adapter uses: the factory (`knex(config)`). */
export type KnexModuleLike = (config: { client: string }) => { client: object }

/** A knex dialect class (`Client_PG`, `Client_MySQL2`), as far as the adapter touches it. */
export type KnexDialectClass = new (
  config: Record<string, unknown>,
) => {
  acquireRawConnection(): Promise<unknown>
}

/** What a dialect subclass made by `withIam` needs at connection time. */
export interface IamDialectState {
  kind: DriverKind
  provider: TokenProvider
  iam: IamOptions
  /**
   * Runs before each physical connection's socket opens: takes the connection-rate permit (or
   * leaves it to the driver hook that takes it before connecting) and warms the token.
   */
  prepare(): Promise<void>
}
