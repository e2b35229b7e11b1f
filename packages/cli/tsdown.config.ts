import { libraryConfig } from '../../tsdown.base.ts'

// index: the programmatic main() for tests and wrappers; bin: the `rds-iam` executable.
export default libraryConfig({ entry: ['src/index.ts', 'src/bin.ts'] })
