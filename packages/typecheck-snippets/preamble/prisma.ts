// Names the prisma README and TSDoc examples use (see common.ts for the rules). The Prisma client
// is generated per schema (`prisma generate`): `PrismaClient` below stands in for it.
// biome-ignore-all lint/correctness/noUnusedImports: entries are copied into the snippets that use them
// biome-ignore-all lint/correctness/noUnusedVariables: entries are copied into the snippets that use them
import type { PrismaPgIam } from '@rds-iam/prisma'

declare const adapter: PrismaPgIam

/**
 * The client `prisma generate` writes for the application's schema, reduced to what the examples
 * call (a `User` model). Its constructor takes the real Prisma 7 adapter type, so passing one of
 * our adapters is checked.
 */
declare class PrismaClient {
  constructor(options: { adapter: import('@prisma/client/runtime/client').SqlDriverAdapterFactory })
  user: { findMany(): Promise<{ id: number }[]> }
}
declare const prisma: PrismaClient
