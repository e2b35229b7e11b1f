// mysql2 (promise API) with IAM authentication through @rds-iam/mysql2, against @rds-iam/emulator
// in front of a real MariaDB/MySQL (RDS_IAM_DEMO_MYSQL_URL, default the local MariaDB's test database).
// `pnpm demo` runs the same app (./app.mjs) beside the other examples when a MySQL is reachable.
import { startEmulator } from '@rds-iam/emulator'
import { run } from './app.mjs'

const upstream = process.env.RDS_IAM_DEMO_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test'
const emu = await startEmulator({ engine: 'mysql', upstream })
console.log(`RDS IAM emulator listening on ${emu.endpoint}, in front of ${new URL(upstream).host}`)

try {
  await run({ emu, database: new URL(upstream).pathname.slice(1) || 'test' })
  console.log(`emulator: ${emu.stats().accepted} login(s) accepted with verified SigV4 tokens`)
} finally {
  await emu.stop()
}
