import { defineConfig } from 'tsdown'

export default defineConfig({
  entry: ['src/index.ts', 'src/promise.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  platform: 'node',
  target: 'node20',
})
