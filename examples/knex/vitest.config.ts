import { packageProject } from '../../vitest.shared.ts'

export default packageProject('example-knex', { testTimeout: 90_000 })
