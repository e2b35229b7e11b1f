import { runReliability } from '@rds-iam/testkit'
import { holdMariaDb, mariadbAdapter } from './mariadb-adapter.js'
import { prismaHarness } from './prisma-harness.js'

runReliability(prismaHarness('prisma (PrismaMariaDbIam)', ['mysql'], 'mysql', mariadbAdapter, holdMariaDb))
