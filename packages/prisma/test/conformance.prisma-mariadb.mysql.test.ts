import { runConformance } from '@rds-iam/testkit'
import { holdMariaDb, mariadbAdapter } from './mariadb-adapter.js'
import { prismaHarness } from './prisma-harness.js'

// mariadb 3.4.5's pool opens connections only to keep `minimumIdle` idle ones (0 never opens
// any), so with the adapter's minimumIdle: 1 it opens a spare connection in the background after
// each one it hands out. Four cases count logins exactly and would count that spare; what they
// cover is tested with the spare accounted for in mariadb-pool.test.ts.
const SPARE =
  'mariadb 3.4.5 keeps one spare idle connection (minimumIdle >= 1 is the only setting that opens connections), so exact login counts include a background login; covered in mariadb-pool.test.ts'

runConformance(
  prismaHarness('prisma (PrismaMariaDbIam)', ['mysql'], 'mysql', mariadbAdapter, holdMariaDb, {
    mysql: {
      'tls-connect': SPARE,
      'token-cache': SPARE,
      'forced-expiry': SPARE,
      'transient-rejections': SPARE,
    },
  }),
)
