import { runConformance } from '@rds-iam/testkit'
import { knexHarness } from './knex-harness.js'

// The other conformance files run on the lowest supported knex (3.2.5, the dev dependency);
// this one on the newest, so both ends of SUPPORTED_KNEX_VERSIONS are tested.
runConformance(knexHarness(['pglite'], 'knex-latest'))
