import { runConformance } from '@rds-iam/testkit'
import { SEQUELIZE_VERSIONS, sequelizeHarness } from './sequelize-harness.js'

runConformance(
  sequelizeHarness(['pglite'], {
    Sequelize: SEQUELIZE_VERSIONS.latest,
    label: 'sequelize-latest',
    dialect: 'postgres',
  }),
)
