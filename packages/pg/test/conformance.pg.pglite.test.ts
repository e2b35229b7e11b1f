import { runConformance } from '@rds-iam/testkit'
import { pgHarness } from './pg-harness.js'

runConformance(pgHarness(['pglite']))
