// Names the TSDoc examples of @rds-iam/core use (see common.ts for the rules).
// biome-ignore-all lint/correctness/noUnusedImports: entries are copied into the snippets that use them
// biome-ignore-all lint/correctness/noUnusedVariables: entries are copied into the snippets that use them
import type { IamOptions, TokenProvider } from '@rds-iam/core'
import { Pool } from '@rds-iam/pg'

declare const pool: import('pg').Pool
declare const iam: IamOptions
declare const provider: TokenProvider
declare const config: import('pg').ClientConfig & { iam?: import('@rds-iam/core').IamOption }
declare const driverConfig: import('pg').ClientConfig
declare function connectWith(provider: TokenProvider): Promise<import('pg').Client>
type PgModuleLike = typeof import('pg')
declare const input: import('@rds-iam/core').ConnectionAuthInput
declare function backOff(): Promise<void>
