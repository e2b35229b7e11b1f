import { defineConfig, type UserConfig } from 'tsdown'

/**
 * The build every published package shares: ESM + CJS with their own `.d.mts` / `.d.cts`, for the
 * oldest Node we support. Packages only name their entries and what is special about them.
 */
export function libraryConfig(overrides: UserConfig = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    platform: 'node',
    target: 'node20',
    // Build timings are noise in CI logs; turbo already reports how long each build took.
    inputOptions: { checks: { pluginTimings: false } },
    ...overrides,
  })
}
