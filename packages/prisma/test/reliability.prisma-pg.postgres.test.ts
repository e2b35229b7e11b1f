import { runReliability } from '@rds-iam/testkit'
import { holdPg, pgAdapter } from './pg-adapter.js'
import { prismaHarness } from './prisma-harness.js'

runReliability(prismaHarness('prisma (PrismaPgIam)', ['postgres'], 'pg', pgAdapter, holdPg))
