import { runConformance } from '@rds-iam/testkit'
import { knexHarness } from './knex-harness.js'

// Aurora DSQL: the emulator as a DSQL cluster (DbConnectAdmin for admin, DbConnect for mapped
// roles) in front of the local PostgreSQL; the harness is the postgres one, unchanged.
runConformance(knexHarness(['dsql']))
