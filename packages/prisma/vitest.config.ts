import { packageProject } from '../../vitest.shared.ts'

export default packageProject('prisma', {
  // Conformance cases wait for forced token expiry and run storms against real servers.
  testTimeout: 60_000,
  hookTimeout: 60_000,
  // The files share one local PostgreSQL; serial files keep storms from skewing each other's counts.
  fileParallelism: false,
})
