import { runReliability } from '@rds-iam/testkit'
import { knexHarness } from './knex-harness.js'

runReliability(knexHarness(['mysql']))
