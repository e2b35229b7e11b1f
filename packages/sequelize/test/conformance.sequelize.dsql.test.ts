import { runConformance } from '@rds-iam/testkit'
import { SEQUELIZE_VERSIONS, sequelizeHarness } from './sequelize-harness.js'

// Aurora DSQL: the emulator as a DSQL cluster (DbConnectAdmin for admin, DbConnect for mapped
// roles) in front of the local PostgreSQL; the harness is the postgres one, unchanged.
runConformance(
  sequelizeHarness(['dsql'], {
    Sequelize: SEQUELIZE_VERSIONS.lowest,
    label: 'sequelize',
    dialect: 'postgres',
  }),
)
