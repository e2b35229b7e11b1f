import { existsSync, readFileSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// npm links the bin of every package it installs into node_modules/.bin, not only those of
// direct dependencies: a dependency's bin would appear in a user's project (e.g.
// @electric-sql/pglite-socket's `pglite-server`, which the emulator now bundles instead).
// The walk covers what `npm install @rds-iam/cli @rds-iam/emulator` installs: dependencies,
// optional dependencies and the peers npm adds by itself, transitively, as installed here.

interface Manifest {
  name: string
  bin?: string | Record<string, string>
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
}

function findPackage(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name, 'package.json')
    if (existsSync(candidate)) return realpathSync(dirname(candidate))
    if (dirname(dir) === dir) return undefined
  }
}

function installedBins(root: string, extra: string[]): Map<string, string[]> {
  const bins = new Map<string, string[]>()
  const seen = new Set<string>()
  const visit = (dir: string, isRoot: boolean): void => {
    if (seen.has(dir)) return
    seen.add(dir)
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest
    if (!isRoot && pkg.bin !== undefined) {
      bins.set(
        pkg.name,
        typeof pkg.bin === 'string' ? [pkg.name.replace(/^@[^/]+\//, '')] : Object.keys(pkg.bin),
      )
    }
    const requiredPeers = Object.keys(pkg.peerDependencies ?? {}).filter(
      (p) => pkg.peerDependenciesMeta?.[p]?.optional !== true,
    )
    const names = [
      ...Object.keys(pkg.dependencies ?? {}),
      ...Object.keys(pkg.optionalDependencies ?? {}),
      ...requiredPeers,
      ...(isRoot ? extra : []),
    ]
    for (const name of names) {
      const found = findPackage(name, dir)
      if (found !== undefined) visit(found, false)
    }
  }
  visit(root, true)
  return bins
}

describe('no stray bins in a user project', () => {
  it('@rds-iam/cli with @rds-iam/emulator installs no bin but rds-iam', () => {
    const cliDir = dirname(dirname(fileURLToPath(import.meta.url)))
    const bins = installedBins(cliDir, ['@rds-iam/emulator'])
    expect(Object.fromEntries(bins)).toEqual({})
    const own = JSON.parse(readFileSync(join(cliDir, 'package.json'), 'utf8')) as Manifest
    expect(own.bin).toEqual({ 'rds-iam': './bin/rds-iam.mjs' })
  })
})
