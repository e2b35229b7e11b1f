import { defineConfig } from 'tsdown'

export default defineConfig({
  // index: the programmatic main() for tests and wrappers; bin: the `rds-iam` executable.
  entry: ['src/index.ts', 'src/bin.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  platform: 'node',
  target: 'node20',
})
