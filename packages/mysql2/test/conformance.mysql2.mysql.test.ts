import { runConformance } from '@rds-iam/testkit'
import { mysql2Harness } from './mysql2-harness.js'

runConformance(mysql2Harness(['mysql']))
