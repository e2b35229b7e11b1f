import { packageProject } from '../../vitest.shared.ts'

export default packageProject('example-sequelize', { testTimeout: 90_000 })
