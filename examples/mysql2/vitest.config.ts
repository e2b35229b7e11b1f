import { packageProject } from '../../vitest.shared.ts'

export default packageProject('example-mysql2', { testTimeout: 90_000 })
