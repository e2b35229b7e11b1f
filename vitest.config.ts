import { defineConfig } from 'vitest/config'

// One vitest run over every package so the run ends with a single pass/fail summary.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'examples/*/vitest.config.ts'],
    allowOnly: !process.env.CI,
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
})
