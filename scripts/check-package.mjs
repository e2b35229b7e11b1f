// `check:package` of every published package: packs the package the way it is published (pnpm,
// which applies `publishConfig.exports`), then checks the tarball itself rather than the work tree.
// Run from the package directory: `node ../../scripts/check-package.mjs`.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'

const pkgDir = process.cwd()
const rootDir = resolve(import.meta.dirname, '..')
const DEV_CONDITION = 'dev-source'

// pnpm puts itself on PATH for scripts it runs (`pnpm test`, turbo under pnpm); a bare `node …`
// run falls back to the pinned version through npx.
function pnpm(args, options) {
  try {
    return execFileSync('pnpm', args, options)
  } catch (err) {
    if (err.code !== 'ENOENT') throw err
    return execFileSync('npx', ['-y', 'pnpm@10.34.8', ...args], options)
  }
}

/** Every string leaf of an exports map, with the conditions that lead to it. */
function exportTargets(value, path = []) {
  if (typeof value === 'string') return [{ path, target: value }]
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, inner]) => exportTargets(inner, [...path, key]))
}

/** The exports map as the work tree declares it, with the dev-source condition taken out. */
function withoutDevSource(value) {
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== DEV_CONDITION)
      .map(([key, inner]) => [key, withoutDevSource(inner)]),
  )
}

const problems = []
const outDir = mkdtempSync(join(tmpdir(), 'rds-iam-pack-'))
try {
  const packed = JSON.parse(
    pnpm(['pack', '--json', '--pack-destination', outDir], {
      cwd: pkgDir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  )
  const tarball = packed.filename
  const files = new Set(packed.files.map((file) => file.path))
  const manifest = JSON.parse(
    execFileSync('tar', ['-xOzf', tarball, 'package/package.json'], { encoding: 'utf8', maxBuffer: 1 << 24 }),
  )
  const source = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'))
  const where = `${manifest.name} (packed)`

  // LICENSE: present, and the same text as the repository's, so the copies cannot drift.
  if (!files.has('LICENSE')) problems.push(`${where}: no LICENSE in the tarball`)
  else {
    const shipped = execFileSync('tar', ['-xOzf', tarball, 'package/LICENSE'], { encoding: 'utf8' })
    if (shipped !== readFileSync(join(rootDir, 'LICENSE'), 'utf8')) {
      problems.push(`${where}: LICENSE differs from the repository's LICENSE`)
    }
  }

  // The published exports never name the dev-source condition, and every target is in the tarball.
  const targets = exportTargets(manifest.exports)
  for (const { path, target } of targets) {
    if (path.includes(DEV_CONDITION))
      problems.push(`${where}: exports ${path.join(' → ')} is a ${DEV_CONDITION} target`)
    const file = target.replace(/^\.\//, '')
    if (!target.endsWith('/package.json') && !files.has(file)) {
      problems.push(`${where}: exports ${path.join(' → ')} → ${target} is not in the tarball`)
    }
  }
  for (const field of ['main', 'module', 'types']) {
    const target = manifest[field]
    if (typeof target === 'string' && !files.has(target.replace(/^\.\//, ''))) {
      problems.push(`${where}: "${field}": ${target} is not in the tarball`)
    }
  }
  const bins = typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : (manifest.bin ?? {})
  for (const [name, target] of Object.entries(bins)) {
    if (!files.has(target.replace(/^\.\//, '')))
      problems.push(`${where}: bin ${name} → ${target} is not in the tarball`)
  }
  // publishConfig.exports is the work tree's exports minus dev-source: one map, kept in step.
  if (JSON.stringify(manifest.exports) !== JSON.stringify(withoutDevSource(source.exports))) {
    problems.push(
      `${source.name}: publishConfig.exports must equal "exports" without the ${DEV_CONDITION} condition (edit both together)`,
    )
  }

  // publint reads the unpacked tarball (its root dir is the package), not the work tree.
  const { messages } = await publint({
    pack: { tarball: readFileSync(tarball).buffer },
    strict: true,
  })
  for (const message of messages) {
    const text = `${where}: publint ${message.type}: ${formatMessage(message, manifest)}`
    // As `publint --strict`: warnings fail like errors, suggestions are shown.
    if (message.type === 'suggestion') console.log(text)
    else problems.push(text)
  }

  try {
    execFileSync(join(rootDir, 'node_modules/.bin/attw'), [tarball, '--profile', 'node16'], {
      stdio: 'inherit',
    })
  } catch {
    problems.push(`${where}: attw reported problems (above)`)
  }
} finally {
  rmSync(outDir, { recursive: true, force: true })
}

if (problems.length > 0) {
  console.error(`package check failed:\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log('package check: ok (LICENSE, exports, publint --strict, attw on the pnpm-packed tarball)')
