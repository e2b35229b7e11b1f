import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import type { PublishedPackage } from './public-api.ts'

/** Which installed copy of each third-party module the simulated user project gets. */
export type DriverSet = 'lowest' | 'latest'

// The fields pnpm replaces from `publishConfig` when it packs (pnpm docs, "publishConfig").
const PUBLISH_OVERRIDES = ['bin', 'main', 'exports', 'types', 'typings', 'module', 'typesVersions', 'browser']

interface Installed {
  name: string
  version: string
  dir: string
}

/**
 * Lays out `node_modules` of a user project in `projectDir`, as npm would install it: our
 * published packages as their tarballs would unpack (the `files` of each package and the
 * package.json with `publishConfig` applied, so no `dev-source`), every third-party module at the
 * top level. A third-party module installed in several versions across the workspace (the pinned
 * lowest supported driver and its `-latest` alias, `@types/pg-lowest` of this package) is linked
 * at its lowest version for `lowest` and its newest for `latest`.
 */
export function installUserProject(
  projectDir: string,
  packages: PublishedPackage[],
  rootDir: string,
  harnessDir: string,
  drivers: DriverSet,
): Map<string, string> {
  rmSync(projectDir, { recursive: true, force: true })
  const nodeModules = join(projectDir, 'node_modules')
  mkdirSync(nodeModules, { recursive: true })
  writeFileSync(
    join(projectDir, 'package.json'),
    `${JSON.stringify({ name: 'snippet-user', private: true })}\n`,
  )

  for (const pkg of packages) {
    const target = join(nodeModules, pkg.name)
    mkdirSync(target, { recursive: true })
    const manifest: Record<string, unknown> = { ...pkg.manifest }
    const publishConfig = (manifest.publishConfig ?? {}) as Record<string, unknown>
    for (const field of PUBLISH_OVERRIDES) if (field in publishConfig) manifest[field] = publishConfig[field]
    delete manifest.publishConfig
    writeFileSync(join(target, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    const sourceDir = join(rootDir, 'packages', pkg.dir)
    for (const entry of (manifest.files as string[] | undefined) ?? []) {
      const from = join(sourceDir, entry)
      if (!existsSync(from)) continue
      cpSync(from, join(target, entry), {
        recursive: true,
        filter: (path) => !path.endsWith('.map') && !/\.test\.[cm]?ts$/.test(path),
      })
    }
  }

  const candidates = new Map<string, Installed[]>()
  const ours = new Set(packages.map((pkg) => pkg.name))
  const collect = (packageDir: string, manifest: Record<string, unknown>) => {
    for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
      for (const [alias, spec] of Object.entries((manifest[field] ?? {}) as Record<string, string>)) {
        if (String(spec).startsWith('workspace:')) continue
        const linked = join(packageDir, 'node_modules', alias)
        if (!existsSync(join(linked, 'package.json'))) continue
        const dir = realpathSync(linked)
        const installed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<
          string,
          string
        >
        const name = installed.name ?? alias
        if (ours.has(name)) continue
        const list = candidates.get(name) ?? []
        if (!list.some((entry) => entry.dir === dir))
          list.push({ name, version: installed.version ?? '0.0.0', dir })
        candidates.set(name, list)
      }
    }
  }
  for (const pkg of packages) collect(join(rootDir, 'packages', pkg.dir), pkg.manifest)
  collect(harnessDir, JSON.parse(readFileSync(join(harnessDir, 'package.json'), 'utf8')))

  const chosen = new Map<string, string>()
  for (const [name, list] of candidates) {
    const sorted = [...list].sort((a, b) => compareVersions(a.version, b.version))
    const pick = drivers === 'lowest' ? sorted[0] : sorted[sorted.length - 1]
    if (!pick) continue
    const link = join(nodeModules, name)
    mkdirSync(dirname(link), { recursive: true })
    symlinkSync(pick.dir, link, 'dir')
    chosen.set(name, pick.version)
  }
  return chosen
}

/** Numeric `major.minor.patch` order; a pre-release sorts before its release. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = '', pre] = v.split('-', 2)
    return { parts: core.split('.').map((part) => Number.parseInt(part, 10) || 0), pre }
  }
  const left = parse(a)
  const right = parse(b)
  for (let i = 0; i < 3; i++) {
    const diff = (left.parts[i] ?? 0) - (right.parts[i] ?? 0)
    if (diff !== 0) return diff
  }
  if (left.pre === right.pre) return 0
  if (left.pre === undefined) return 1
  if (right.pre === undefined) return -1
  return left.pre < right.pre ? -1 : 1
}
