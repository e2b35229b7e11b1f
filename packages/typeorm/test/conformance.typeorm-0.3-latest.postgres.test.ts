import { runConformance } from '@rds-iam/testkit'
import { typeormHarness } from './typeorm-harness.js'
import { loadTypeorm } from './typeorm-versions.js'

// The newest 0.3 and the lowest 1.x run the whole suite on one engine each; orm-features.test.ts
// runs every copy on every engine.
runConformance(typeormHarness('postgres', loadTypeorm('typeorm-0.3-latest')))
