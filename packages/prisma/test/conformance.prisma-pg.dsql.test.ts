import { runConformance } from '@rds-iam/testkit'
import { holdPg, pgAdapter } from './pg-adapter.js'
import { prismaHarness } from './prisma-harness.js'

// Aurora DSQL: the emulator as a DSQL cluster (DbConnectAdmin for admin, DbConnect for mapped
// roles) in front of the local PostgreSQL; the harness is the postgres one, unchanged.
runConformance(prismaHarness('prisma (PrismaPgIam)', ['dsql'], 'pg', pgAdapter, holdPg))
