import { runConformance } from '@rds-iam/testkit'
import { holdMariaDb, mariadbAdapter } from './mariadb-adapter.js'
import { prismaHarness } from './prisma-harness.js'

runConformance(prismaHarness('prisma (PrismaMariaDbIam)', ['mysql'], 'mysql', mariadbAdapter, holdMariaDb))
