import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['dev-source'] },
  ssr: { resolve: { conditions: ['dev-source'] } },
  test: {
    name: 'pg',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Conformance cases wait for forced token expiry and run storms against real servers.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The files share one local PostgreSQL; serial files keep storms from skewing each other's counts.
    fileParallelism: false,
  },
})
