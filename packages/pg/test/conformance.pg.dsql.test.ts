import { runConformance } from '@rds-iam/testkit'
import { pgHarness } from './pg-harness.js'

// Aurora DSQL: the emulator as a DSQL cluster (DbConnectAdmin for admin, DbConnect for mapped
// roles) in front of the local PostgreSQL; the same Pool, only the signing host differs.
runConformance(pgHarness(['dsql']))
