// Sequelize with IAM authentication through @rds-iam/sequelize, against @rds-iam/emulator in front of
// an embedded PostgreSQL (PGlite): a migration, writes, reads, transactions, and a token that
// expires while the app runs. Offline, no database server. RDS_IAM_DEMO_PG_URL=postgres://… puts a
// real PostgreSQL behind the emulator instead. `pnpm demo` runs the same app (./app.mjs) beside the
// other examples.
import { startEmulator } from '@rds-iam/emulator'
import { run } from './app.mjs'

const upstream = process.env.RDS_IAM_DEMO_PG_URL || undefined
const emu = await startEmulator({ engine: 'postgres', ...(upstream ? { upstream } : {}) })
console.log(`RDS IAM emulator on ${emu.endpoint}, in front of ${upstream ?? 'an embedded PGlite'}`)

try {
  await run({ emu })
} finally {
  await emu.stop()
}
