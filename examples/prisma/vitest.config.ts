import { packageProject } from '../../vitest.shared.ts'

export default packageProject('example-prisma', { testTimeout: 90_000 })
