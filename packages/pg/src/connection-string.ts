import { readFileSync } from 'node:fs'
import { nodeDefaultCa, RdsIamError } from '@rds-iam/core'
import { parse } from 'pg-connection-string'

/** What a connection string contributes, split so TLS and the password can be judged separately. */
export interface ParsedConnectionString {
  /** Ordinary fields (host, port, user, database, options, application_name, …); empty values dropped. */
  fields: Record<string, unknown>
  /** A password written in the URL, if any (it conflicts with `iam`). */
  password: string | undefined
  /**
   * TLS as the URL asks for it: `undefined` (nothing said → our default), `false`
   * (`sslmode=disable`), the `sslmode` string (for core's `resolveTls`), or an object when the URL
   * names certificate files (`sslrootcert` / `sslcert` / `sslkey`: the user's own choice).
   */
  ssl: false | string | Record<string, unknown> | undefined
}

// These are interpreted here instead of by pg-connection-string: its sslmode handling replaces
// the whole `ssl` object (dropping the RDS CA) and prints deprecation warnings for `require`, and
// a certificate file it cannot read surfaces as a bare ENOENT (or as `system` not being a file).
const TLS_PARAMS = new Set(['sslmode', 'ssl', 'uselibpqcompat', 'sslcert', 'sslkey', 'sslrootcert'])
const FILE_PARAMS = { sslrootcert: 'ca', sslcert: 'cert', sslkey: 'key' } as const
type FileParam = keyof typeof FILE_PARAMS
const NOT_FIELDS = new Set([
  'password',
  'ssl',
  'sslmode',
  'sslcert',
  'sslkey',
  'sslrootcert',
  'uselibpqcompat',
])

/**
 * Parses a libpq-style connection string the way pg would, but keeps the parts that matter for
 * IAM (password, TLS) apart so they cannot silently override the token function or the CA.
 */
export function parseConnectionString(connectionString: string): ParsedConnectionString {
  const queryAt = connectionString.indexOf('?')
  const base = queryAt === -1 ? connectionString : connectionString.slice(0, queryAt)
  const query = queryAt === -1 ? '' : connectionString.slice(queryAt + 1)
  let sslmode: string | undefined
  let sslFlag: string | undefined
  const files: Partial<Record<FileParam, string>> = {}
  const kept: string[] = []
  for (const pair of query.split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const key = safeDecode(eq === -1 ? pair : pair.slice(0, eq))
    const value = eq === -1 ? '' : safeDecode(pair.slice(eq + 1))
    if (!TLS_PARAMS.has(key)) {
      kept.push(pair)
      continue
    }
    if (key === 'sslmode') sslmode = value
    if (key === 'ssl') sslFlag = value
    if (key in FILE_PARAMS && value !== '') files[key as FileParam] = value
  }
  const rest = kept.length > 0 ? `${base}?${kept.join('&')}` : base

  let parsed: Record<string, unknown>
  try {
    parsed = parse(rest) as Record<string, unknown>
  } catch (cause) {
    throw new RdsIamError(
      'RDS_IAM_INVALID_OPTIONS',
      'connectionString could not be parsed',
      'pass a URL like postgres://user@host:5432/db (percent-encode special characters), or use host/port/user fields',
      { cause },
    )
  }

  const fields: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(parsed)) {
    if (NOT_FIELDS.has(key) || value === undefined || value === null || value === '') continue
    fields[key] = value
  }
  const password = typeof parsed.password === 'string' && parsed.password !== '' ? parsed.password : undefined

  // Certificate files named in the URL are the user's own TLS material: they win, like a user `ssl`
  // object. Otherwise the mode is handed to core's resolveTls as a string (verify modes → RDS CA).
  const disabled = sslmode === 'disable' || sslFlag === 'false' || sslFlag === '0'
  const system = files.sslrootcert === 'system'
  // libpq (PostgreSQL 16+) allows only verify-full with it ("weak sslmode … may not be used with
  // sslrootcert=system"); refusing the same URLs keeps them meaning one thing for psql and for us.
  if (system && (disabled || (sslmode !== undefined && sslmode !== 'verify-full'))) {
    throw new RdsIamError(
      'RDS_IAM_INVALID_OPTIONS',
      `connectionString has sslrootcert=system with ${disabled && sslmode === undefined ? `ssl=${sslFlag}` : `sslmode=${sslmode}`}: "system" means verify the server against the trusted root CAs with verify-full, and libpq refuses any weaker setting with it`,
      'drop the sslmode (or use sslmode=verify-full) to verify against the trusted roots, or drop sslrootcert=system',
    )
  }
  let ssl: ParsedConnectionString['ssl']
  // TLS off: the files are never used, so they are not read (libpq does not read them either).
  if (disabled) ssl = false
  else if (Object.keys(files).length > 0) {
    ssl = { ...readCertificateFiles(files), rejectUnauthorized: sslmode !== 'no-verify' }
  } else ssl = sslmode
  return { fields, password, ssl }
}

/**
 * Reads the files named by sslrootcert / sslcert / sslkey, as pg-connection-string would, but a
 * file that cannot be read is an error naming the parameter and the path. `sslrootcert=system`
 * (libpq's "the trusted system roots") sets `ca` to core's `nodeDefaultCa()`: the roots Node
 * trusts by default (its bundled Mozilla store, plus the OS store with `--use-system-ca`, plus
 * `NODE_EXTRA_CA_CERTS`), with the host-name check rds-iam always adds.
 */
function readCertificateFiles(files: Partial<Record<FileParam, string>>): Record<string, string | string[]> {
  const material: Record<string, string | string[]> = {}
  for (const [param, path] of Object.entries(files) as [FileParam, string][]) {
    if (param === 'sslrootcert' && path === 'system') {
      // Named explicitly: an ssl object without a `ca` gets the RDS bundle from core.
      material.ca = nodeDefaultCa()
      continue
    }
    try {
      material[FILE_PARAMS[param]] = readFileSync(path, 'utf8')
    } catch (cause) {
      const code = (cause as { code?: unknown }).code
      throw new RdsIamError(
        'RDS_IAM_INVALID_OPTIONS',
        `connectionString has ${param}=${path}, but that file could not be read${typeof code === 'string' ? ` (${code})` : ''}`,
        param === 'sslrootcert'
          ? 'point sslrootcert at a readable PEM file with the CA certificates, use sslrootcert=system for the trusted root CAs, or leave it out: rds-iam then verifies against the RDS CA bundle it ships'
          : `point ${param} at a readable PEM file, or pass ssl: { cert, key } in the config instead`,
        { cause },
      )
    }
  }
  return material
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return text
  }
}
