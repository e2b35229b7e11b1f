import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { versionSatisfies } from '@rds-iam/core'
import { describe, expect, it } from 'vitest'
import { installedVersion, ROOT } from '../src/installed-version.mjs'
import { ADAPTERS, CELLS, CONNECTORS, NODE_LINES } from '../src/matrix-cells.mjs'

// One source of truth (issue 14): each adapter's peerDependencies range, its SUPPORTED_*_VERSIONS
// constant, its README "Supported versions" section and the matrix cells must agree.

type AdapterName = keyof typeof ADAPTERS

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')

/** The text of a README's "Supported versions" section (up to the next `## ` heading). */
function supportedSection(readmePath: string): string {
  const text = read(readmePath)
  const start = text.indexOf('\n## Supported versions')
  expect(start, `${readmePath} has a "## Supported versions" section`).toBeGreaterThanOrEqual(0)
  const end = text.indexOf('\n## ', start + 1)
  return text.slice(start, end < 0 ? undefined : end)
}

/** `export const NAME = '…'` from an adapter's src/supported-versions.ts. */
function constantOf(dir: string, name: string): string {
  const match = new RegExp(`export const ${name} = '([^']+)'`).exec(read(`${dir}/src/supported-versions.ts`))
  expect(match, `${dir}/src/supported-versions.ts exports ${name} as a string literal`).not.toBeNull()
  return match![1]!
}

/** The lowest version each `||` alternative of a range admits (its `>=` bound, or an exact version). */
function lowestOf(range: string): string[] {
  return range.split('||').map((alternative) => {
    const m = /(?:>=|\^|~|=)?\s*(\d+\.\d+\.\d+)/.exec(alternative.trim())
    expect(m, `range "${range}" has a lower bound in every alternative`).not.toBeNull()
    return m![1]!
  })
}

/** Versions the matrix tests of `packageName`, as installed (each with the Node lines it runs on). */
function testedVersions(packageName: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>()
  for (const cell of CELLS) {
    for (const source of cell.versions) {
      if (!source.under || source.name !== packageName) continue
      const version = installedVersion(source.module, source.from)
      if (!out.has(version)) out.set(version, new Set())
      out.get(version)!.add(cell.node)
    }
  }
  return out
}

describe.each(Object.keys(ADAPTERS) as AdapterName[])('%s', (name) => {
  const adapter = ADAPTERS[name] as { dir: string; peer: string; constant: string; extraPeers?: string[] }
  const range = constantOf(adapter.dir, adapter.constant)
  const manifest = JSON.parse(read(`${adapter.dir}/package.json`)) as {
    peerDependencies: Record<string, string>
  }

  it(`peerDependencies equal ${adapter.constant}`, () => {
    for (const peer of [adapter.peer, ...(adapter.extraPeers ?? [])]) {
      expect(manifest.peerDependencies[peer], `${adapter.dir}/package.json peerDependencies["${peer}"]`).toBe(
        range,
      )
    }
  })

  it('the README "Supported versions" section states the range and every version the matrix tests', () => {
    // A range inside a Markdown table cell escapes its pipes.
    const section = supportedSection(`${adapter.dir}/README.md`).replaceAll('\\|', '|')
    expect(section).toContain(`\`${range}\``)
    for (const version of testedVersions(adapter.peer).keys()) {
      expect(section, `${adapter.dir}/README.md names tested ${adapter.peer} ${version}`).toContain(version)
    }
  })

  it('the root README "Supported versions" section states the range', () => {
    const section = supportedSection('README.md').replaceAll('\\|', '|')
    expect(section).toContain(`\`${range}\``)
  })

  it('the matrix tests the lowest version of every line the range admits, and nothing outside it', () => {
    const tested = testedVersions(adapter.peer)
    expect(tested.size, `matrix cells for ${adapter.peer}`).toBeGreaterThan(0)
    for (const version of tested.keys()) {
      expect(versionSatisfies(version, range), `${adapter.peer} ${version} in ${range}`).toBe(true)
    }
    for (const lowest of lowestOf(range)) {
      expect(
        [...tested.keys()],
        `the matrix tests ${adapter.peer} ${lowest}, the lowest of ${range}`,
      ).toContain(lowest)
    }
  })

  it('the newest tested version runs on every Node line', () => {
    const tested = testedVersions(adapter.peer)
    const newest = [...tested.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1)!
    expect([...tested.get(newest)!].sort()).toEqual([...NODE_LINES].sort())
  })

  it('every conformance file of the adapter is in a cell, and every cell file exists', () => {
    const files = readdirSync(join(ROOT, adapter.dir, 'test'))
      // Aurora DSQL is a signing-service variant of PostgreSQL, run by the main suite on the dev versions.
      .filter(
        (file) =>
          file.startsWith('conformance.') && file.endsWith('.test.ts') && !file.endsWith('.dsql.test.ts'),
      )
      .map((file) => `${adapter.dir}/test/${file}`)
    const inCells = new Set(CELLS.filter((cell) => cell.adapter === name).flatMap((cell) => cell.files))
    for (const file of files) expect([...inCells], `${file} runs in a matrix cell`).toContain(file)
    for (const file of inCells) expect(existsSync(join(ROOT, file)), `${file} exists`).toBe(true)
  })
})

describe.each(Object.entries(CONNECTORS))('connector %s', (connector, { adapter, constant }) => {
  const dir = ADAPTERS[adapter as AdapterName].dir
  const range = constantOf(dir, constant)

  it(`every tested ${connector} is in ${constant} and named in the README`, () => {
    const tested = testedVersions(connector)
    expect(tested.size).toBeGreaterThan(0)
    const section = supportedSection(`${dir}/README.md`)
    expect(section).toContain(range)
    for (const version of tested.keys()) {
      expect(versionSatisfies(version, range), `${connector} ${version} in ${range}`).toBe(true)
      expect(section).toContain(version)
    }
  })
})

describe('the matrix', () => {
  it('has a cell on every Node line, with unique ids', () => {
    expect(new Set(CELLS.map((cell) => cell.node))).toEqual(new Set(NODE_LINES))
    expect(new Set(CELLS.map((cell) => cell.id)).size).toBe(CELLS.length)
  })

  it('the root README shows the matrix table of a run', () => {
    const text = read('README.md')
    const rows = text.split('\n')
    for (const cell of CELLS) {
      const row = rows.find((line) => line.startsWith(`| ${cell.id} |`))
      expect(row, `root README matrix row for ${cell.id}`).toBeDefined()
      // A version that moved (a bumped alias, a new lowest) needs a new run of that cell for the table.
      for (const source of cell.versions) {
        const version = `${source.name} ${installedVersion(source.module, source.from)}`
        expect(
          row,
          `root README row ${cell.id} shows ${version}; re-run pnpm test:matrix --only ${cell.id}`,
        ).toContain(version)
      }
    }
  })
})
