import { runReliability } from '@rds-iam/testkit'
import { mysql2Harness } from './mysql2-harness.js'

runReliability(mysql2Harness(['mysql']))
