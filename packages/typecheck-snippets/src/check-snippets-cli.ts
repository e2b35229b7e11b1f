// `pnpm --filter @rds-iam/typecheck-snippets check`, run by the root `check` script after the build.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { checkSnippets, DRIVER_SETS, MODES } from './check-snippets.ts'

const harnessDir = resolve(import.meta.dirname, '..')
const rootDir = resolve(harnessDir, '../..')
// A fresh directory per run, so two runs never share an install; kept when something failed.
const workDir = process.env.RDS_IAM_SNIPPETS_DIR ?? mkdtempSync(join(tmpdir(), 'rds-iam-typecheck-snippets-'))

const started = performance.now()
const result = checkSnippets({ rootDir, harnessDir, workDir })
const seconds = ((performance.now() - started) / 1000).toFixed(1)

const versions = (set: (typeof DRIVER_SETS)[number]) =>
  ['pg', '@types/pg', 'mysql2']
    .map((name) => `${name} ${result.drivers[set]?.get(name) ?? '(not installed)'}`)
    .join(', ')
console.log(
  `snippet type check: ${result.passed} of ${result.snippets.length} snippets compile everywhere, ${result.skipped.length} opted out, ` +
    `${result.programs} programs (${MODES.map((m) => m.name).join(', ')} × ${DRIVER_SETS.join(', ')} drivers) in ${seconds} s`,
)
for (const set of DRIVER_SETS) console.log(`  ${set}: ${versions(set)}`)
for (const snippet of result.skipped)
  console.log(`  opted out: ${snippet.file}:${snippet.line - 1} (${snippet.skipReason})`)
for (const snippet of result.snippets.filter((s) => s.esmOnlyReason !== undefined)) {
  console.log(`  ESM only: ${snippet.file}:${snippet.line - 1} (${snippet.esmOnlyReason})`)
}

/** `node10 (lowest, latest)`, or `every mode, both driver sets` when it failed everywhere. */
function describeWhere(where: string[]): string {
  const everywhere = MODES.flatMap((mode) =>
    mode.formats.flatMap((f) =>
      DRIVER_SETS.map((set) => `${mode.name}${mode.formats.length > 1 ? `/${f.format}` : ''} (${set})`),
    ),
  )
  if (where.includes('all') || everywhere.every((w) => where.includes(w))) return 'every mode and driver set'
  const bySetting = new Map<string, string[]>()
  for (const w of where) {
    const [, setting = w, set = ''] = /^(.*) \((\w+)\)$/.exec(w) ?? []
    bySetting.set(setting, [...(bySetting.get(setting) ?? []), set])
  }
  return [...bySetting].map(([setting, sets]) => `${setting} (${sets.join(', ')})`).join(', ')
}

if (result.failures.length === 0) {
  console.log('snippet type check: ok')
  if (!process.env.RDS_IAM_SNIPPETS_DIR) rmSync(workDir, { recursive: true, force: true })
} else {
  const sorted = [...result.failures].sort((a, b) =>
    a.location.localeCompare(b.location, 'en', { numeric: true }),
  )
  console.error(`\nsnippet type check failed: ${sorted.length} problem(s)\n`)
  for (const failure of sorted) {
    const [first, ...rest] = failure.message.split('\n')
    console.error(`${failure.location}  ${failure.code}: ${first}`)
    for (const line of rest) console.error(`    ${line}`)
    console.error(`    in: ${describeWhere(failure.where)}\n`)
  }
  console.error(`the compiled snippet files and the simulated install are in ${workDir}`)
  process.exitCode = 1
}
