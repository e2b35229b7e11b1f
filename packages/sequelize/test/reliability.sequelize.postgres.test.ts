import { runReliability } from '@rds-iam/testkit'
import { SEQUELIZE_VERSIONS, sequelizeHarness } from './sequelize-harness.js'

runReliability(
  sequelizeHarness(['postgres'], {
    Sequelize: SEQUELIZE_VERSIONS.lowest,
    label: 'sequelize',
    dialect: 'postgres',
  }),
)
