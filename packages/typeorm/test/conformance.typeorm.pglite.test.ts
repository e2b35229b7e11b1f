import { runConformance } from '@rds-iam/testkit'
import { typeormHarness } from './typeorm-harness.js'
import { loadTypeorm } from './typeorm-versions.js'

// `typeorm` is the lowest supported 0.3 (the dev dependency); the -1-latest files run the newest 1.x.
runConformance(typeormHarness('pglite', loadTypeorm('typeorm')))
