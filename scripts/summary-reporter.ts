import type { Reporter, TestModule } from 'vitest/node'

/**
 * Ends the run with one plain `tests: N passed, N failed, N skipped` line after vitest's own summary,
 * so a CI that reads only the last line sees the counts without parsing vitest's table.
 */
export default class SummaryReporter implements Reporter {
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
    process.stdout.write(
      `\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
    )
  }
}
