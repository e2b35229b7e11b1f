import { packageProject } from '../../vitest.shared.ts'

export default packageProject('example-typeorm', { testTimeout: 90_000 })
