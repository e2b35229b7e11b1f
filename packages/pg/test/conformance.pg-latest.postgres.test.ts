import { createRequire } from 'node:module'
import { runConformance } from '@rds-iam/testkit'
import type { PgModuleLike } from '../src/index.js'
import { pgHarness } from './pg-harness.js'

// The other files run on the lowest supported pg (the dev dependency); this one on the newest,
// injected, so both ends of SUPPORTED_PG_VERSIONS are tested.
const pgLatest = createRequire(import.meta.url)('pg-latest') as PgModuleLike & {
  Client: { prototype: object }
}

runConformance(pgHarness(['postgres'], { pg: pgLatest, label: 'pg@latest' }))
