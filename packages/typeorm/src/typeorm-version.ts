import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { checkPeerVersion, RdsIamError } from '@rds-iam/core'
import { SUPPORTED_TYPEORM_VERSIONS } from './supported-versions.js'

/** Where the application's TypeORM lives and which version it is. */
export interface InstalledTypeorm {
  version: string
  /** Its package.json: the place TypeORM itself loads `pg` / `mysql2` from. */
  manifest: string
}

let installed: InstalledTypeorm | null | undefined

/**
 * Finds the TypeORM the application installed (a peer dependency, so resolving it from here finds
 * the application's copy) and reads its version. TypeORM's `exports` map hides `package.json`, so
 * the entry point is resolved and its directory searched upwards.
 */
export function findInstalledTypeorm(): InstalledTypeorm | undefined {
  if (installed !== undefined) return installed ?? undefined
  installed = null
  let entry: string
  try {
    entry = createRequire(import.meta.url).resolve('typeorm')
  } catch {
    return undefined
  }
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest)) {
      const json = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string }
      if (json.name === 'typeorm' && typeof json.version === 'string') {
        installed = { version: json.version, manifest }
        checkPeerVersion('typeorm', json.version, SUPPORTED_TYPEORM_VERSIONS)
        return installed
      }
    }
    if (dirname(dir) === dir) return undefined
  }
}

/**
 * The major line of a TypeORM version: `0` for 0.3.x (mysql2 must be named with
 * `connectorPackage`), `1` for 1.x and later (mysql2 only, the option is gone).
 */
export function typeormMajor(version: string): 0 | 1 {
  const match = /^v?(\d+)\.(\d+)\./.exec(version.trim())
  if (!match) {
    throw new RdsIamError(
      'RDS_IAM_INVALID_OPTIONS',
      `typeormVersion ${JSON.stringify(version)} is not a version number`,
      "pass the installed TypeORM version, e.g. { typeormVersion: '0.3.28' }, or leave it out to read it from node_modules",
    )
  }
  const major = Number(match[1])
  const minor = Number(match[2])
  if (major === 0 && minor < 3) {
    throw new RdsIamError(
      'RDS_IAM_UNSUPPORTED_DRIVER',
      `TypeORM ${version} has no DataSource API`,
      'upgrade TypeORM to 0.3.20 or later (npm install typeorm@^0.3.20)',
    )
  }
  return major === 0 ? 0 : 1
}
