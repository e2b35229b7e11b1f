import { runConformance } from '@rds-iam/testkit'
import { SEQUELIZE_VERSIONS, sequelizeHarness } from './sequelize-harness.js'

runConformance(
  sequelizeHarness(['mysql'], {
    Sequelize: SEQUELIZE_VERSIONS.lowest,
    label: 'sequelize (mariadb dialect)',
    dialect: 'mariadb',
  }),
)
