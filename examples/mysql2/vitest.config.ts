import { defineProject } from 'vitest/config'

export default defineProject({
  test: { name: 'example-mysql2', include: ['test/**/*.test.ts'], testTimeout: 90_000 },
})
