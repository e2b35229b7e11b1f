import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Reporter, TestModule } from 'vitest/node'
import {
  RELIABILITY_RESULTS_DIR,
  type ReliabilityRow,
  renderReliabilityTable,
} from '../packages/testkit/src/reliability-report.ts'

/**
 * Ends the run with the reliability figures written during it (if any), then one plain
 * `tests: N passed, N failed, N skipped` line after vitest's own summary, so a CI that reads only
 * the last line sees the counts without parsing vitest's table.
 */
export default class SummaryReporter implements Reporter {
  #startedAt = Date.now()

  onInit(): void {
    this.#startedAt = Date.now()
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 }
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') counts.passed++
        else if (state === 'failed') counts.failed++
        else counts.skipped++
      }
    }
    // An unhandled error fails the run even when every test passed; count it so the line agrees.
    counts.failed += unhandledErrors.length
    this.#printReliability()
    process.stdout.write(
      `\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
    )
  }

  /** The reliability suite writes one JSON file per adapter × engine; only this run's are shown. */
  #printReliability(): void {
    if (!existsSync(RELIABILITY_RESULTS_DIR)) return
    const rows: ReliabilityRow[] = []
    for (const name of readdirSync(RELIABILITY_RESULTS_DIR)) {
      if (!name.endsWith('.json')) continue
      const file = join(RELIABILITY_RESULTS_DIR, name)
      if (statSync(file).mtimeMs < this.#startedAt) continue
      rows.push(JSON.parse(readFileSync(file, 'utf8')) as ReliabilityRow)
    }
    if (rows.length === 0) return
    const table = renderReliabilityTable(rows)
    writeFileSync(join(RELIABILITY_RESULTS_DIR, 'report.md'), `${table}\n`)
    process.stdout.write(`\nReliability figures (also in .rds-iam/reliability/report.md):\n\n${table}\n`)
  }
}
