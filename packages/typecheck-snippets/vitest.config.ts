import { packageProject } from '../../vitest.shared.ts'

export default packageProject('typecheck-snippets', {
  // The end-to-end case builds a simulated install and runs TypeScript on it.
  testTimeout: 120_000,
})
