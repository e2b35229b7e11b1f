// `pnpm bench`: every figure is a ratio against a baseline measured in the same run, printed as
// markdown and saved as JSON. Nothing here asserts a timing; goals are reported, not enforced.
import os from 'node:os'
import { mysqlConnectionBench, postgresConnectionBench } from './connection-bench.js'
import { importBench } from './import-bench.js'
import type { BenchRow } from './report.js'
import { saveJson, toMarkdown } from './report.js'
import { tokenBench } from './token-bench.js'

const rows: BenchRow[] = []
rows.push(...(await tokenBench()))
rows.push(...importBench())
rows.push(...(await postgresConnectionBench()))
rows.push(...(await mysqlConnectionBench()))

const meta = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
}
console.log(`\n## rds-iam benchmarks (${meta.node}, ${meta.cpus})\n`)
console.log(toMarkdown(rows))
console.log(`\nSaved ${saveJson(rows, meta)}`)
