import { runConformance } from '@rds-iam/testkit'
import { knexHarness } from './knex-harness.js'

runConformance(knexHarness(['pglite']))
