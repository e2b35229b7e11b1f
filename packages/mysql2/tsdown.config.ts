import { libraryConfig } from '../../tsdown.base.ts'

// `@rds-iam/mysql2/promise` mirrors `mysql2/promise`.
export default libraryConfig({ entry: ['src/index.ts', 'src/promise.ts'] })
