import { runReliability } from '@rds-iam/testkit'
import { typeormHarness } from './typeorm-harness.js'
import { loadTypeorm } from './typeorm-versions.js'

runReliability(typeormHarness('postgres', loadTypeorm('typeorm')))
