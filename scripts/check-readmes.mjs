// Every published package README follows one template (STYLE.md); this keeps the headings honest,
// the way OpenTelemetry lints its READMEs.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const REQUIRED = [
  'Install',
  'Supported versions',
  'Quick start',
  'Options',
  'IAM and TLS setup',
  'Errors and troubleshooting',
  'Testing with the emulator',
  'License',
]

const problems = []
for (const dir of readdirSync('packages')) {
  const manifestPath = join('packages', dir, 'package.json')
  if (!existsSync(manifestPath)) continue
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
  if (manifest.private) continue
  const readmePath = join('packages', dir, 'README.md')
  if (!existsSync(readmePath)) {
    problems.push(`${readmePath}: missing`)
    continue
  }
  const headings = readFileSync(readmePath, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('## '))
    .map((line) => line.slice(3).trim())
  let last = -1
  for (const heading of REQUIRED) {
    const at = headings.indexOf(heading)
    if (at === -1) problems.push(`${readmePath}: no "## ${heading}" section`)
    else if (at < last) problems.push(`${readmePath}: "## ${heading}" is out of template order`)
    else last = at
  }
}

if (problems.length > 0) {
  console.error(`README template check failed:\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log('README template check: ok')
