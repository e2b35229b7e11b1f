import { runReliability } from '@rds-iam/testkit'
import { vi } from 'vitest'
import { SEQUELIZE_VERSIONS, sequelizeHarness } from './sequelize-harness.js'

// Sequelize's per-query cost makes the 10,000-write case take 45-60 s on a loaded 2-core machine,
// at the edge of the project's 60 s; a bound is kept, one that this case fits in.
vi.setConfig({ testTimeout: 180_000 })

runReliability(
  sequelizeHarness(['postgres'], {
    Sequelize: SEQUELIZE_VERSIONS.lowest,
    label: 'sequelize',
    dialect: 'postgres',
  }),
)
