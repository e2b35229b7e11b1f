// Names the TSDoc examples of @rds-iam/cli use (see common.ts for the rules).
// biome-ignore-all lint/correctness/noUnusedImports: entries are copied into the snippets that use them
// biome-ignore-all lint/correctness/noUnusedVariables: entries are copied into the snippets that use them
import type { DoctorOptions, DoctorReport } from '@rds-iam/cli'

declare const report: DoctorReport
declare const options: DoctorOptions
declare const token: string
