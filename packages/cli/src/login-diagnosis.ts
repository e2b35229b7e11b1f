import { isIP } from 'node:net'
import { type DatabaseEngine, isProxyCapacityError, parseRdsHostname } from '@rds-iam/core'

/** What `rds-iam doctor` knows when a login fails; used to rank the likely causes. */
export interface LoginContext {
  engine: DatabaseEngine
  user: string
  database?: string
  region: string
  /** Where the region came from, e.g. `--region` or `the hostname`. */
  regionSource: string
  connectHost: string
  connectPort: number
  signingHost: string
  signingPort: number
  signingHostGiven: boolean
  signingPortGiven: boolean
  /** AWS account of the credentials, when STS answered. */
  account?: string
  /** `'dsql'` when the token is an Aurora DSQL token; absent or `'rds'` otherwise. */
  service?: 'rds' | 'dsql'
  /** The IAM principal to map a DSQL role to (STS's ARN, an assumed role as its role ARN). */
  principalArn?: string
  /** Names on the server certificate (the TLS check). */
  certNames: string[]
}

/** The server's answer in words, and what to do about it. */
export interface LoginDiagnosis {
  detail: string
  fix: string
}

const DEFAULT_PORTS: Record<DatabaseEngine, number> = { postgres: 5432, mysql: 3306 }
const PAM = /PAM authentication failed/i
// Aurora DSQL's documented refusal text (its troubleshooting guide names no SQLSTATE).
const DSQL_IAM_FAILED = /IAM authentication failed/i
const NO_ENCRYPTION = /pg_hba\.conf rejects connection .*no encryption/i

interface DriverError {
  code?: unknown
  errno?: unknown
  message?: unknown
  sqlMessage?: unknown
}

/** True for an IP address or `localhost`: where a tunnel or proxy usually listens. */
export function isLocalAddress(host: string): boolean {
  return isIP(host) !== 0 || /^localhost\.?$/i.test(host)
}

/** The first name on the certificate shaped like an RDS endpoint (the tunnel's far end). */
export function rdsNameOnCertificate(names: string[]): string | undefined {
  return names.find((n) => !n.includes('*') && parseRdsHostname(n).kind !== 'unknown')
}

function list(causes: string[]): string {
  return `likely causes, most likely first:\n${causes.map((c, i) => `(${i + 1}) ${c}`).join('\n')}`
}

function grantFix(ctx: LoginContext): string {
  return ctx.engine === 'postgres'
    ? `the database user lacks IAM login: run GRANT rds_iam TO "${ctx.user}"; as the master user`
    : `the database user is not an IAM user: run CREATE USER '${ctx.user}' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'; (and REQUIRE SSL) as the master user`
}

function enableIamFix(): string {
  return 'IAM database authentication is off on the instance or cluster: aws rds modify-db-instance --db-instance-identifier <id> --enable-iam-database-authentication --apply-immediately (Aurora: modify-db-cluster)'
}

function policyFix(ctx: LoginContext): string {
  return `the IAM policy of these credentials must allow rds-db:connect on arn:aws:rds-db:${ctx.region}:${ctx.account ?? '<account>'}:dbuser:<DbiResourceId or cluster-resource-id>/${ctx.user} (the resource id is not the instance name: aws rds describe-db-instances --query 'DBInstances[].DbiResourceId'); new policies take ~30 s to apply`
}

/**
 * The IAM ARN a DSQL role is mapped to: STS names an assumed role by its session
 * (`arn:aws:sts::<account>:assumed-role/<role>/<session>`), `AWS IAM GRANT` wants the role's ARN.
 * A role path is not in the session ARN, so a role under a path shows without it.
 *
 * @example
 * ```ts
 * iamPrincipalArn('arn:aws:sts::123456789012:assumed-role/app/i-0abc') // 'arn:aws:iam::123456789012:role/app'
 * ```
 */
export function iamPrincipalArn(arn: string): string {
  const m = /^arn:([^:]+):sts::(\d+):assumed-role\/([^/]+)\/.+$/.exec(arn)
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : arn
}

function dsqlClusterArn(ctx: LoginContext): string {
  const id =
    parseRdsHostname(ctx.signingHost).kind === 'dsql' ? ctx.signingHost.split('.')[0] : '<cluster-id>'
  return `arn:aws:dsql:${ctx.region}:${ctx.account ?? '<account>'}:cluster/${id}`
}

function dsqlMappingFix(ctx: LoginContext): string {
  const quoted = `'${ctx.principalArn ?? '<your IAM role ARN>'}'`
  return `the role "${ctx.user}" must exist and be mapped to these credentials' IAM identity inside the database: as admin run CREATE ROLE "${ctx.user}" WITH LOGIN; AWS IAM GRANT "${ctx.user}" TO ${quoted};`
}

/** The ranked causes of a refused Aurora DSQL token (DSQL says the same for each of them). */
export function dsqlTokenRefusedCauses(ctx: LoginContext): string[] {
  const cluster = dsqlClusterArn(ctx)
  const causes: string[] = []
  if (!ctx.signingHostGiven && isLocalAddress(ctx.connectHost)) {
    causes.push(
      `the token is signed for ${ctx.connectHost}, the address you connect to; through a tunnel or local proxy DSQL only accepts a token signed for its cluster endpoint: pass --signing-host <cluster-id>.dsql.<region>.on.aws (in code: iam: { signingHostname })`,
    )
  }
  if (ctx.user === 'admin') {
    causes.push(
      `the IAM policy of these credentials must allow dsql:DbConnectAdmin on ${cluster} (the role admin always needs DbConnectAdmin; new policies take a while to apply)`,
    )
  } else {
    causes.push(
      `the IAM policy of these credentials must allow dsql:DbConnect on ${cluster}`,
      dsqlMappingFix(ctx),
    )
  }
  causes.push(
    `the token is signed for ${ctx.signingHost} (DSQL tokens name the host, no port); it must be the cluster endpoint (--signing-host through a tunnel)`,
    `the token is signed for region ${ctx.region} (${ctx.regionSource}); it must be the cluster's region (--region)`,
    'the token expired (its X-Amz-Expires, or the credentials that signed it expired first) or the local clock is wrong (sync with NTP: timedatectl set-ntp true)',
    'the credentials belong to another AWS account than the cluster, or their session expired',
  )
  return causes
}

/** The ranked causes of a refused token (RDS says the same for every one of them). */
export function tokenRefusedCauses(ctx: LoginContext): string[] {
  if (ctx.service === 'dsql') return dsqlTokenRefusedCauses(ctx)
  const causes: string[] = []
  const defaultPort = DEFAULT_PORTS[ctx.engine]
  const tunnel = !ctx.signingHostGiven && isLocalAddress(ctx.connectHost)
  if (tunnel) {
    const name = rdsNameOnCertificate(ctx.certNames)
    const portPart = ctx.connectPort === defaultPort ? '' : ` --signing-port ${defaultPort}`
    causes.push(
      `the token is signed for ${ctx.connectHost}:${ctx.connectPort}, the address you connect to; through an SSH tunnel, port forward or local proxy RDS only accepts a token signed for its own endpoint: pass --signing-host ${name ?? '<your RDS endpoint>'}${portPart} (in code: iam: { signingHostname: '${name ?? '<endpoint>'}'${portPart ? `, signingPort: ${defaultPort}` : ''} })`,
    )
  }
  if (ctx.signingHostGiven && !ctx.signingPortGiven && ctx.connectPort !== defaultPort) {
    causes.push(
      `the token is signed for port ${ctx.signingPort} (the local port); if the database listens on ${defaultPort} behind the tunnel, pass --signing-port ${defaultPort} (iam.signingPort)`,
    )
  }
  causes.push(grantFix(ctx), enableIamFix(), policyFix(ctx))
  if (!tunnel) {
    causes.push(
      `the token is signed for ${ctx.signingHost}:${ctx.signingPort}; it must be the endpoint the database is reached at on the AWS side (RDS Proxy: the proxy endpoint; a tunnel: --signing-host / --signing-port)`,
    )
  }
  causes.push(
    `the token is signed for region ${ctx.region} (${ctx.regionSource}); it must be the database's region (--region)`,
    'the local clock is wrong: tokens are dated by it and refused when more than 15 minutes old or a few minutes in the future (sync with NTP: timedatectl set-ntp true)',
    'the credentials belong to another AWS account than the database, or their session expired (tokens from temporary credentials die with them)',
  )
  return causes
}

function asText(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

/**
 * Maps a driver's login error to the likely cause and its fix, using what doctor knows. The
 * server answers every bad token alike (PostgreSQL `PAM authentication failed`, SQLSTATE 28000;
 * MySQL 1045), so for those the answer is a ranked list.
 *
 * @example
 * ```ts
 * const { detail, fix } = diagnoseLoginError(err, context)
 * ```
 */
export function diagnoseLoginError(err: unknown, ctx: LoginContext): LoginDiagnosis {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as DriverError
  const message = asText(e.sqlMessage) ?? asText(e.message) ?? String(err)
  const code = asText(e.code)
  const errno = typeof e.errno === 'number' ? e.errno : undefined
  const detail =
    ctx.engine === 'postgres'
      ? `${message}${code ? ` (SQLSTATE ${code})` : ''}`
      : `${message}${errno ? ` (errno ${errno}${code ? `, ${code}` : ''})` : code ? ` (${code})` : ''}`

  if (isProxyCapacityError(err)) {
    return {
      detail,
      fix: "RDS Proxy refused the connection for capacity (its pool for the database is full or a client-connection limit was reached): not a token problem, the token was not even checked; retry later, close idle connections, or raise the proxy's MaxConnectionsPercent / the database's max_connections",
    }
  }
  if (NO_ENCRYPTION.test(message)) {
    return {
      detail,
      fix: 'the server refused a connection without TLS: IAM users must connect over TLS (RDS pg_hba: hostssl … pam); remove ssl: false / sslmode=disable from your config — rds-iam then verifies the server against the RDS CA bundle',
    }
  }
  if (
    ctx.service === 'dsql' &&
    (DSQL_IAM_FAILED.test(message) || PAM.test(message) || code === '28000' || code === '28P01')
  ) {
    return { detail, fix: `Aurora DSQL refused the token; ${list(dsqlTokenRefusedCauses(ctx))}` }
  }
  if (PAM.test(message) || errno === 1045 || code === 'ER_ACCESS_DENIED_ERROR') {
    const causes = tokenRefusedCauses(ctx)
    if (/using password: NO/i.test(message)) {
      // The server never switched to mysql_clear_password: it does not treat the user as an IAM user.
      causes.unshift(
        `the server did not ask for the token, so '${ctx.user}' is not an IAM user there: CREATE USER '${ctx.user}' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'; (or ALTER USER)`,
      )
    }
    return { detail, fix: `the database refused the token; ${list(causes)}` }
  }
  if (code === '28P01' || /password authentication failed/i.test(message)) {
    return {
      detail,
      fix: list([
        `the server asked for an ordinary password, so it does not treat "${ctx.user}" as an IAM user: GRANT rds_iam TO "${ctx.user}";`,
        enableIamFix(),
      ]),
    }
  }
  if (/role ".*" does not exist/i.test(message)) {
    if (ctx.service === 'dsql') return { detail, fix: dsqlMappingFix(ctx) }
    return {
      detail,
      fix: `create the user first: CREATE USER "${ctx.user}"; GRANT rds_iam TO "${ctx.user}";`,
    }
  }
  if (code === '3D000' || errno === 1049) {
    return {
      detail,
      fix: `the database ${ctx.database ? `"${ctx.database}" ` : ''}does not exist: pass --database with an existing one (${ctx.engine === 'postgres' ? 'postgres always exists' : 'or leave --database out'})`,
    }
  }
  if (errno === 1044 || code === '42501') {
    return { detail, fix: `the login worked but "${ctx.user}" may not use that database: grant it access` }
  }
  if (code === '53300' || errno === 1040) {
    return {
      detail,
      fix: 'the server has no free connection slots: close idle connections or raise max_connections',
    }
  }
  if (
    /certificate|self[- ]signed|Hostname\/IP does not match|unable to verify/i.test(message) ||
    (code?.startsWith('ERR_TLS_') ?? false) ||
    code === 'HANDSHAKE_SSL_ERROR'
  ) {
    return {
      detail,
      fix: 'the driver rejected the server certificate although the TLS check accepted it: the TLS options the driver got differ from the check (report this with the detail above); the token was not accepted by anyone',
    }
  }
  if (
    code === 'ECONNRESET' ||
    /terminated unexpectedly|closed the connection|PROTOCOL_CONNECTION_LOST/i.test(message)
  ) {
    return {
      detail,
      fix: 'the server closed the connection during the login: check that the port belongs to the database (not a proxy that drops TLS), and the server log',
    }
  }
  if (/timeout|timed out|ETIMEDOUT/i.test(`${message} ${code ?? ''}`)) {
    return {
      detail,
      fix: 'the server accepted the connection but did not finish the login in time: an overloaded instance, IAM throttling (keep new IAM connections under ~200/s), or a proxy in the way; raise --timeout to check',
    }
  }
  return { detail, fix: 'see the server log for the reason; the token check and the TLS check passed' }
}
