// `pnpm bench`: every figure is a ratio against a baseline measured in the same run, printed as
// markdown and saved as JSON. Nothing here asserts a timing; goals are reported, not enforced.
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { awsWrapperBench, coldStormBench } from './aws-wrapper-bench.js'
import { MYSQL_URL, PG_URL, ROUNDS, SLOT_MS } from './bench-config.js'
import { mysqlConnectionBench, postgresConnectionBench } from './connection-bench.js'
import { startEmulatorChild } from './emulator-child.js'
import { importBench } from './import-bench.js'
import { failures } from './measure.js'
import { memoryBench } from './memory-bench.js'
import { ormBench } from './orm-bench.js'
import type { BenchRow } from './report.js'
import { saveJson, toMarkdown } from './report.js'
import { tokenBench } from './token-bench.js'

// The AWS wrapper's pool adds an 'error' listener to a pg/mysql2 client per checkout, so under load
// Node warns about a listener leak on every client; count those instead of printing hundreds.
let listenerWarnings = 0
process.removeAllListeners('warning')
process.on('warning', (warning) => {
  if (warning.name === 'MaxListenersExceededWarning') listenerWarnings++
  else console.warn(`${warning.name}: ${warning.message}`)
})

const started = performance.now()
const loadBefore = os.loadavg()
/** Sections that threw: the run goes on with the others and reports these with the results. */
const failedSections: Array<{ section: string; error: string }> = []
const step = async (label: string, run: () => Promise<BenchRow[]> | BenchRow[]): Promise<BenchRow[]> => {
  const t = performance.now()
  try {
    const result = await run()
    console.error(`bench: ${label} done in ${((performance.now() - t) / 1000).toFixed(1)} s`)
    return result
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err)
    console.error(`bench: ${label} FAILED after ${((performance.now() - t) / 1000).toFixed(1)} s: ${error}`)
    failedSections.push({ section: label, error })
    return []
  }
}

const rows: BenchRow[] = []
rows.push(...(await step('token cache', tokenBench)))
rows.push(...(await step('cold import', importBench)))
rows.push(...(await step('postgres emulator and pg', postgresConnectionBench)))
rows.push(...(await step('mysql emulator', mysqlConnectionBench)))

const pgEmu = await startEmulatorChild('postgres', PG_URL)
const mysqlEmu = await startEmulatorChild('mysql', MYSQL_URL)
try {
  // Memory first, while the heap is small: forced collections are quicker and the deltas cleaner.
  const memoryRows = await step('memory', () => memoryBench(pgEmu, mysqlEmu))
  rows.push(...(await step('ORM adapters', () => ormBench(pgEmu))))
  rows.push(...(await step('AWS wrapper (postgres)', () => awsWrapperBench('postgres', pgEmu))))
  rows.push(...(await step('cold storm (postgres)', async () => [await coldStormBench('postgres', pgEmu)])))
  rows.push(...(await step('AWS wrapper (mysql)', () => awsWrapperBench('mysql', mysqlEmu))))
  rows.push(...(await step('cold storm (mysql)', async () => [await coldStormBench('mysql', mysqlEmu)])))
  rows.push(...memoryRows)
} finally {
  await Promise.all([pgEmu.stop(), mysqlEmu.stop()])
}

/** Installed versions of what the rows measure, read from this package's node_modules. */
function versions(): Record<string, string> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules')
  const names = [
    'pg',
    'mysql2',
    'knex',
    'sequelize',
    'typeorm',
    '@prisma/client',
    '@prisma/adapter-pg',
    'aws-advanced-nodejs-wrapper',
  ]
  return Object.fromEntries(
    names.map((name) => {
      try {
        return [
          name,
          (JSON.parse(readFileSync(join(dir, name, 'package.json'), 'utf8')) as { version: string }).version,
        ]
      } catch {
        return [name, 'unknown']
      }
    }),
  )
}

const cpus = os.cpus()
const meta = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: `${cpus.length} × ${cpus[0]?.model ?? 'unknown'}`,
  memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  // Other work on the machine: 1-minute load average before and after the run (2 cores = 2.0 busy).
  loadAverage: { before: Number(loadBefore[0]!.toFixed(2)), after: Number(os.loadavg()[0]!.toFixed(2)) },
  rounds: ROUNDS,
  slotMs: SLOT_MS,
  durationSeconds: Math.round((performance.now() - started) / 1000),
  awsWrapperListenerWarnings: listenerWarnings,
  // A throughput figure counts completed operations only; failed ones are reported, not hidden.
  failedOperations: failures.count,
  failedSections,
  versions: versions(),
}
console.log(
  `\n## rds-iam benchmarks (${meta.date.slice(0, 16).replace('T', ' ')} UTC, ${meta.node}, ${meta.cpus}, ${meta.memory}; load ${meta.loadAverage.before} → ${meta.loadAverage.after}; ${ROUNDS} rounds × ${SLOT_MS} ms; ${meta.durationSeconds} s)\n`,
)
console.log(toMarkdown(rows))
console.log(
  `\nVersions: ${Object.entries(meta.versions)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ')}. Ratios: median of per-round ratios (interquartile range in brackets); > 1 is better.`,
)
for (const f of failedSections)
  console.log(`\n**Section "${f.section}" failed, its rows are missing:** ${f.error}`)
if (failures.count > 0) {
  console.log(`\n**${failures.count} operation(s) failed during throughput runs** (first: ${failures.first})`)
}
if (listenerWarnings > 0) {
  console.log(
    `\n(aws-advanced-nodejs-wrapper: ${listenerWarnings} MaxListenersExceededWarning(s) during the run, counted, not printed)`,
  )
}
console.log(`\nSaved ${saveJson(rows, meta)}`)
// Results are saved: end here, so no leftover handle (a driver's idle timer, a wrapper's cache) keeps the run alive.
process.exit(failedSections.length > 0 ? 1 : 0)
