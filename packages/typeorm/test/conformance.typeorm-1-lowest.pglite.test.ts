import { runConformance } from '@rds-iam/testkit'
import { typeormHarness } from './typeorm-harness.js'
import { loadTypeorm } from './typeorm-versions.js'

// The newest 0.3 and the lowest 1.x complete the matrix: every copy × every engine.
runConformance(typeormHarness('pglite', loadTypeorm('typeorm-1-lowest')))
