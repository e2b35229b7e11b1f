import { packageProject } from '../../vitest.shared.ts'

export default packageProject('example-pg', { testTimeout: 90_000 })
