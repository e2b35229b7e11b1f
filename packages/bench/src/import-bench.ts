import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { format, median } from './measure.js'
import type { BenchRow } from './report.js'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Milliseconds to `import()` a module in a fresh Node process (median of `runs` processes). */
function coldImportMs(specifier: string, runs = 7): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(specifier)}); console.log(performance.now() - t)`
  const samples: number[] = []
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: packageDir,
      encoding: 'utf8',
    })
    samples.push(Number(out.trim()))
  }
  return median(samples)
}

const PAIRS: Array<[subject: string, baseline: string]> = [
  ['@rds-iam/core', '@aws-sdk/rds-signer'],
  ['@rds-iam/pg', 'pg'],
  ['@rds-iam/mysql2', 'mysql2'],
]

export function importBench(): BenchRow[] {
  return PAIRS.map(([subject, baseline]) => {
    const subjectMs = coldImportMs(subject)
    const baselineMs = coldImportMs(baseline)
    return {
      name: 'cold import',
      subject: `\`${subject}\``,
      subjectValue: `${format(subjectMs)} ms`,
      baseline: `\`${baseline}\``,
      baselineValue: `${format(baselineMs)} ms`,
      // > 1 means the subject loads faster than the baseline.
      ratio: baselineMs / subjectMs,
    }
  })
}
