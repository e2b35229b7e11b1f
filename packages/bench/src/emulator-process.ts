// Runs an emulator in its own process so the connection benchmark measures the emulator's capacity,
// not the benchmark client's share of the same event loop.
import { startEmulator } from '@rds-iam/emulator'

const [engine, upstream] = process.argv.slice(2) as ['postgres' | 'mysql', string | undefined]
const emu = await startEmulator({ engine, ...(upstream ? { upstream } : {}) })
process.send?.({ port: emu.port, ca: emu.ca, region: emu.region, credentials: emu.credentials })
// The parent asks for CPU time so it can report the emulator's cost per connection on its own.
process.on('message', (msg) => {
  if (msg === 'cpu') process.send?.({ cpu: process.cpuUsage() })
})
process.on('disconnect', () => {
  void emu.stop().finally(() => process.exit(0))
})
