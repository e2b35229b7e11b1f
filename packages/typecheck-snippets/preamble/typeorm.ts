// Names the typeorm README and TSDoc examples use (see common.ts for the rules).
// biome-ignore-all lint/correctness/noUnusedImports: entries are copied into the snippets that use them
// biome-ignore-all lint/correctness/noUnusedVariables: entries are copied into the snippets that use them
import type { DataSource, MigrationInterface } from 'typeorm'

declare const dataSource: DataSource
declare const username: string
declare const database: string
/** An entity class of the application. */
declare class User {
  id: number
}
/** A migration class of the application. */
declare class Init1700000000000 implements MigrationInterface {
  up(): Promise<void>
  down(): Promise<void>
}
declare const entities: (typeof User)[]
