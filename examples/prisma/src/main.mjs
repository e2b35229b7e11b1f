// Prisma 7 with IAM authentication through @rds-iam/prisma, against @rds-iam/emulator in front of
// an embedded PostgreSQL (PGlite). Offline, no database server. `npm start` generates the client
// first. Set RDS_IAM_DEMO_PG_URL=postgres://… to put a real PostgreSQL behind the emulator.
// `pnpm demo` runs the same app (./app.mjs) beside the other examples.
import { startEmulator } from '@rds-iam/emulator'
import { getRdsIamError } from '@rds-iam/prisma'
import { run } from './app.mjs'

const upstream = process.env.RDS_IAM_DEMO_PG_URL || undefined
const emu = await startEmulator({ engine: 'postgres', ...(upstream ? { upstream } : {}) })
console.log(`RDS IAM emulator on ${emu.endpoint}, in front of ${upstream ?? 'an embedded PGlite'}`)

try {
  await run({ emu })
} catch (err) {
  const iam = getRdsIamError(err)
  console.error(iam ? `${iam.code}: ${iam.hint}` : err)
  process.exitCode = 1
} finally {
  await emu.stop()
}
