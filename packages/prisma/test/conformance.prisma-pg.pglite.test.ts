import { runConformance } from '@rds-iam/testkit'
import { holdPg, pgAdapter } from './pg-adapter.js'
import { prismaHarness } from './prisma-harness.js'

runConformance(prismaHarness('prisma (PrismaPgIam)', ['pglite'], 'pg', pgAdapter, holdPg))
