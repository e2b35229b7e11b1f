import { packageProject } from '../../vitest.shared.ts'

export default packageProject('matrix', { testTimeout: 60_000 })
