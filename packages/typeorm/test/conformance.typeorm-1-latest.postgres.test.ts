import { runConformance } from '@rds-iam/testkit'
import { typeormHarness } from './typeorm-harness.js'
import { loadTypeorm } from './typeorm-versions.js'

runConformance(typeormHarness('postgres', loadTypeorm('typeorm-1-latest')))
