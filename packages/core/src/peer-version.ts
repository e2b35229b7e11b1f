import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { IamLogger } from './iam-options.js'
import { safeLog } from './safe-log.js'

/**
 * The warning code of a driver or ORM outside the adapter's supported range.
 *
 * @example
 * ```ts
 * import { UNSUPPORTED_VERSION_WARNING } from '@rds-iam/core'
 * process.on('warning', (w) => {
 *   if ((w as { code?: string }).code === UNSUPPORTED_VERSION_WARNING) console.error(w.message)
 * })
 * ```
 */
export const UNSUPPORTED_VERSION_WARNING = 'RDS_IAM_UNSUPPORTED_VERSION'

// On globalThis so the ESM and CJS builds of core (both can load in one process) warn once, not twice.
const WARNED_KEY = Symbol.for('rds-iam.unsupported-version-warned')
const registry = globalThis as Record<symbol, Set<string> | undefined>
registry[WARNED_KEY] ??= new Set<string>()
const warned = registry[WARNED_KEY]

type Triple = [number, number, number]

function parseVersion(text: string): Triple | undefined {
  const m = /^\s*[v=]?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+][\w.+-]*)?\s*$/.exec(text)
  if (!m) return undefined
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)]
}

function compare(a: Triple, b: Triple): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1
  return 0
}

function satisfiesComparator(version: Triple, comparator: string): boolean {
  const m = /^(>=|<=|>|<|=|\^|~)?\s*(.+)$/.exec(comparator)
  const bound = m ? parseVersion(m[2]!) : undefined
  if (!m || !bound) throw new Error(`unsupported version comparator "${comparator}"`)
  const c = compare(version, bound)
  switch (m[1]) {
    case '>=':
      return c >= 0
    case '<=':
      return c <= 0
    case '>':
      return c > 0
    case '<':
      return c < 0
    case '^': {
      // Same leftmost non-zero part (npm's caret), and not below the bound.
      const upper: Triple =
        bound[0] > 0 ? [bound[0] + 1, 0, 0] : bound[1] > 0 ? [0, bound[1] + 1, 0] : [0, 0, bound[2] + 1]
      return c >= 0 && compare(version, upper) < 0
    }
    case '~':
      return c >= 0 && compare(version, [bound[0], bound[1] + 1, 0]) < 0
    default:
      return c === 0
  }
}

/**
 * Whether `version` is inside `range`, for the range forms the adapters declare: comparators
 * (`>=`, `<`, `<=`, `>`, `=`, `^`, `~`, a bare version) joined by spaces (and) and `||` (or). A
 * prerelease counts as its release (`8.11.0-beta.1` as `8.11.0`). Not a full semver: the
 * published ranges are this simple, and core takes no dependency for them.
 *
 * @example
 * ```ts
 * import { versionSatisfies } from '@rds-iam/core'
 * versionSatisfies('0.3.31', '>=0.3.20 <0.4 || >=1.0.0 <2') // true
 * versionSatisfies('8.10.0', '>=8.11.0 <9') // false
 * ```
 */
export function versionSatisfies(version: string, range: string): boolean {
  const parsed = parseVersion(version)
  if (!parsed) return false
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .split(/\s+/)
      .filter(Boolean)
      .every((comparator) => satisfiesComparator(parsed, comparator)),
  )
}

/**
 * The version of the package `id` that `from` resolves, read from its package.json (found upwards
 * from its entry point: several drivers' `exports` maps hide `package.json`); `undefined` when it
 * cannot be resolved or read.
 *
 * @param id package name, e.g. `'pg'`
 * @param from the adapter's `import.meta.url` (or `__filename`)
 *
 * @example
 * ```ts
 * import { installedPeerVersion } from '@rds-iam/core'
 * installedPeerVersion('pg', '/app/server.js') // the pg /app resolves, e.g. '8.23.1'
 * ```
 */
export function installedPeerVersion(id: string, from: string): string | undefined {
  let entry: string
  try {
    entry = createRequire(from).resolve(id)
  } catch {
    return undefined
  }
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    try {
      if (existsSync(manifest)) {
        const json = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown; version?: unknown }
        // The first manifest with a name is the package's (a nested one marks only a module type);
        // its name may differ from `id` when installed under an alias.
        if (typeof json.name === 'string') return typeof json.version === 'string' ? json.version : undefined
      }
    } catch {
      return undefined
    }
    if (dirname(dir) === dir) return undefined
  }
}

/**
 * Warns, once per package and version in the process, when a driver or ORM is outside the range
 * the adapter supports and is tested with: through `logger.warn` when given, else as a process
 * warning with code `RDS_IAM_UNSUPPORTED_VERSION`. It never throws: an untested version may still
 * work, and refusing it would break an upgrade the user did not ask us about. An unknown version
 * (`undefined`) is not warned about.
 *
 * @param name package name as users install it, e.g. `'pg'`
 * @param version the installed version, e.g. from {@link installedPeerVersion}
 * @param range the adapter's `SUPPORTED_*_VERSIONS`
 * @param logger `iam.logger`, when the caller has one
 * @returns `false` when the version is outside the range
 *
 * @example
 * ```ts
 * import { checkPeerVersion, installedPeerVersion } from '@rds-iam/core'
 * checkPeerVersion('pg', installedPeerVersion('pg', '/app/server.js'), '>=8.11.0 <9', console)
 * ```
 */
export function checkPeerVersion(
  name: string,
  version: string | undefined,
  range: string,
  logger?: IamLogger,
): boolean {
  let ok: boolean
  try {
    ok = version === undefined || versionSatisfies(version, range)
  } catch {
    ok = true // a range this matcher cannot read is our defect (the drift test catches it), not the user's
  }
  if (ok || version === undefined) return true
  const key = `${name}@${version}`
  if (warned.has(key)) return false
  warned.add(key)
  const message = `${name} ${version} is outside the versions rds-iam supports and tests (${name} ${range}); install a supported version, e.g. npm install "${name}@${range}"`
  if (logger) safeLog(logger, 'warn', `[rds-iam] ${message}`)
  else process.emitWarning(message, { code: UNSUPPORTED_VERSION_WARNING })
  return false
}
