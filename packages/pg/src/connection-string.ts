import { RdsIamError } from '@rds-iam/core'
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
// the whole `ssl` object (dropping the RDS CA) and prints deprecation warnings for `require`.
const TLS_PARAMS = new Set(['sslmode', 'ssl', 'uselibpqcompat'])
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
  const material =
    typeof parsed.ssl === 'object' && parsed.ssl !== null
      ? (parsed.ssl as Record<string, unknown>)
      : undefined
  let ssl: ParsedConnectionString['ssl']
  if (sslmode === 'disable' || sslFlag === 'false' || sslFlag === '0') ssl = false
  else if (material && Object.keys(material).length > 0) {
    ssl = { ...material, rejectUnauthorized: sslmode !== 'no-verify' }
  } else ssl = sslmode
  return { fields, password, ssl }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return text
  }
}
