import { packageProject } from '../../vitest.shared.ts'

export default packageProject('prisma', {
  // Generates the Prisma clients of test/fixtures (not committed) before any test file runs.
  globalSetup: ['./test/generate-clients.ts'],
  // Conformance cases wait for forced token expiry and run storms against real servers.
  testTimeout: 60_000,
  hookTimeout: 60_000,
  // The files share one local PostgreSQL; serial files keep storms from skewing each other's counts.
  fileParallelism: false,
})
