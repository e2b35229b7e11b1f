import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'

/** The repository root (this file is packages/matrix/src/installed-version.mjs). */
export const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '../../..')

/**
 * The version of `module` as resolved from the repo-relative directory `from`: its entry point is
 * resolved and the first package.json with a name above it read (several packages' `exports`
 * maps hide package.json). Throws when it is not installed: a matrix cell must not guess.
 */
export function installedVersion(module, from) {
  const entry = createRequire(join(ROOT, from, 'package.json')).resolve(module)
  for (let dir = dirname(entry); dirname(dir) !== dir; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (!existsSync(manifest)) continue
    const json = JSON.parse(readFileSync(manifest, 'utf8'))
    if (typeof json.name === 'string') return json.version
  }
  throw new Error(`no package.json above ${entry}`)
}
