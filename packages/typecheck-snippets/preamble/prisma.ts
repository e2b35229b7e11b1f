// Names the prisma README and TSDoc examples use (see common.ts for the rules). The Prisma client
// is generated per schema (`prisma generate`), so a snippet that needs its type says no-check.
// biome-ignore-all lint/correctness/noUnusedImports: entries are copied into the snippets that use them
// biome-ignore-all lint/correctness/noUnusedVariables: entries are copied into the snippets that use them
import type { PrismaPgIam } from '@rds-iam/prisma'

declare const adapter: PrismaPgIam
