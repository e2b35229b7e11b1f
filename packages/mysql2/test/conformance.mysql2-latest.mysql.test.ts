import { createRequire } from 'node:module'
import { runConformance } from '@rds-iam/testkit'
import type { Mysql2ModuleLike } from '../src/index.js'
import { mysql2Harness } from './mysql2-harness.js'

// The other files run on the lowest supported mysql2 (the dev dependency); this one on the
// newest, injected, so both ends of SUPPORTED_MYSQL2_VERSIONS are tested.
const mysql2Latest = createRequire(import.meta.url)('mysql2-latest') as Mysql2ModuleLike

runConformance(mysql2Harness(['mysql'], { mysql2: mysql2Latest, label: 'mysql2@latest' }))
