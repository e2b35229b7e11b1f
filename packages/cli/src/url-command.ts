import { lookup } from 'node:dns/promises'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createTokenProvider, type DatabaseEngine, DSQL_MAX_EXPIRES_IN_SECONDS, rdsTls } from '@rds-iam/core'
import { type Flags, parseFlags, parsePort, resolveTarget, UsageError } from './cli-args.js'
import type { CliIo } from './cli-main.js'
import { tokenTimes } from './token-times.js'

const DEFAULT_PORTS: Record<DatabaseEngine, number> = { postgres: 5432, mysql: 3306 }

const URL_USAGE = `Usage: rds-iam url --host HOST --user USER --engine postgres|mysql [options]
       rds-iam url --host CLUSTER_HOST --user ROLE [--service dsql | --engine dsql] [--expires-in S] [options]   (Aurora DSQL)

Prints a connection URL with a fresh IAM token as the password (percent-encoded), TLS with
certificate and host-name verification, and the path of a CA file, for tools that only take a
URL (psql, db-migrate, Flyway-style CLIs; Prisma Migrate with --prisma, since Prisma's schema
engine treats sslmode=verify-full as prefer). The token is valid for 15 minutes (DSQL:
--expires-in): treat the output as a password.

Options:
  --host HOST           Endpoint you connect to (required)
  --user USER           Database user (required); for DSQL the role (admin → DbConnectAdmin, others → DbConnect)
  --engine ENGINE       postgres or mysql (required, except for Aurora DSQL: postgres only);
                        dsql is short for --service dsql
  --service rds|dsql    Which token to sign (default: dsql for <id>.dsql.<region>.on.aws, else rds)
  --expires-in S        DSQL only: token lifetime in seconds, 1 to 604800 (default 900)
  --port PORT           Default 5432 (postgres) / 3306 (mysql)
  --database NAME       Database in the URL path (default: none, the client's default; DSQL: postgres)
  --region REGION       Default: from the hostname, then AWS_REGION / AWS_DEFAULT_REGION
  --signing-host HOST   Sign for this host (tunnels: the RDS endpoint). postgres: the URL names it
                        and connects to --host with libpq's hostaddr
  --signing-port PORT   Sign for this port (tunnels: the RDS port)
  --profile NAME        AWS profile (default: the default credential chain)
  --ca-file PATH        CA file the URL points to. An existing file is used as it is (your own CA,
                        the emulator's); otherwise the RDS CA bundle is written there.
                        Default: the RDS bundle, written to ~/.cache/rds-iam/rds-ca-bundle.pem
  --format url|env      url (default) or env: DATABASE_URL='…' for a .env file or the shell
  --prisma              Prisma's TLS parameters (sslaccept=strict&sslcert=…) instead of libpq/MySQL's;
                        not with a tunnel (Prisma ignores hostaddr): map the RDS name to the tunnel
                        in /etc/hosts and pass --host RDS_NAME --port TUNNEL_PORT instead
  --help                Show this help
`

/**
 * RFC 3986 percent-encoding of everything but unreserved characters. Stricter than
 * `encodeURIComponent` (which leaves `! ' ( ) *`), so the URL is also safe inside single quotes.
 *
 * @example
 * ```ts
 * encodeUrlComponent("a&b=c/d%e'") // 'a%26b%3Dc%2Fd%25e%27'
 * ```
 */
export function encodeUrlComponent(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

/** Where the RDS bundle goes when no `--ca-file` is given: a per-user cache directory. */
export function defaultCaFile(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    process.platform === 'win32'
      ? (env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'))
      : (env.XDG_CACHE_HOME ?? join(homedir(), '.cache'))
  return join(base, 'rds-iam', 'rds-ca-bundle.pem')
}

async function ensureCaFile(path: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  if (path !== undefined) {
    const full = resolve(path)
    let existing: string | undefined
    try {
      existing = await readFile(full, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new UsageError(`cannot read --ca-file ${path}: ${(err as Error).message}`)
      }
    }
    if (existing !== undefined) {
      if (!existing.includes('-----BEGIN CERTIFICATE-----')) {
        throw new UsageError(`--ca-file ${path} exists but holds no PEM certificate`)
      }
      return full
    }
    await writeFile(full, `${rdsTls().ca.join('\n')}\n`).catch((err: Error) => {
      throw new UsageError(`cannot write the RDS CA bundle to --ca-file ${path}: ${err.message}`)
    })
    return full
  }
  const file = defaultCaFile(env)
  // A private directory: a CA file another user could replace would decide whom the token goes to.
  await mkdir(dirname(file), { recursive: true, mode: 0o700 })
  await chmod(dirname(file), 0o700).catch(() => {})
  const bundle = `${rdsTls().ca.join('\n')}\n`
  const current = await readFile(file, 'utf8').catch(() => undefined)
  if (current !== bundle) await writeFile(file, bundle, { mode: 0o644 })
  return file
}

/** What {@link buildConnectionUrl} needs; the token is already signed. */
export interface ConnectionUrlParts {
  engine: DatabaseEngine
  host: string
  port: number
  user: string
  token: string
  database?: string
  caFile: string
  /** postgres through a tunnel: the name in the URL (checked against the certificate). */
  signingHost?: string
  /** postgres through a tunnel: the IP libpq connects to (`hostaddr`). */
  hostaddr?: string
  prisma?: boolean
}

/**
 * The connection URL: user and token percent-encoded; postgres `sslmode=verify-full&sslrootcert=…`
 * (libpq, psql, node-postgres), mysql `ssl-mode=VERIFY_IDENTITY&ssl-ca=…` (MySQL URI syntax);
 * with `prisma`, Prisma's `sslaccept=strict&sslcert=…`.
 *
 * @example
 * ```ts
 * buildConnectionUrl({ engine: 'postgres', host, port: 5432, user: 'app', token, caFile: '/tmp/ca.pem' })
 * ```
 */
export function buildConnectionUrl(p: ConnectionUrlParts): string {
  const scheme = p.engine === 'postgres' ? 'postgresql' : 'mysql'
  const name = p.hostaddr && p.signingHost ? p.signingHost : p.host
  const host = isIP(name) === 6 ? `[${name}]` : name
  const path = `/${p.database ? encodeUrlComponent(p.database) : ''}`
  const ca = encodeUrlComponent(p.caFile)
  const params: string[] = []
  if (p.hostaddr && p.signingHost) params.push(`hostaddr=${encodeUrlComponent(p.hostaddr)}`)
  if (p.prisma) {
    // Prisma's schema engine reads only sslmode=disable|prefer|require; anything else becomes prefer.
    if (p.engine === 'postgres') params.push('sslmode=require')
    params.push('sslaccept=strict', `sslcert=${ca}`)
  } else if (p.engine === 'postgres') {
    params.push('sslmode=verify-full', `sslrootcert=${ca}`)
  } else {
    params.push('ssl-mode=VERIFY_IDENTITY', `ssl-ca=${ca}`)
  }
  return `${scheme}://${encodeUrlComponent(p.user)}:${encodeUrlComponent(p.token)}@${host}:${p.port}${path}?${params.join('&')}`
}

async function tunnelAddress(host: string): Promise<string> {
  if (isIP(host) !== 0) return host
  try {
    return (await lookup(host)).address
  } catch (err) {
    throw new UsageError(`cannot resolve --host ${host} for hostaddr: ${(err as Error).message}`)
  }
}

/**
 * `rds-iam url …`: prints a connection URL (or `DATABASE_URL='…'`) with a fresh token and returns
 * the exit code (0, 1 when no token can be signed, 2 for bad usage). The CA file path and the
 * token's expiry go to stderr, so `$(rds-iam url …)` captures only the URL.
 *
 * @example
 * ```ts
 * const code = await urlCommand(['--host', host, '--user', 'app', '--engine', 'postgres'], process)
 * ```
 */
export async function urlCommand(
  argv: string[],
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  try {
    const values: Flags = parseFlags(argv, {
      host: { type: 'string' },
      port: { type: 'string' },
      user: { type: 'string' },
      engine: { type: 'string' },
      database: { type: 'string' },
      region: { type: 'string' },
      'signing-host': { type: 'string' },
      'signing-port': { type: 'string' },
      service: { type: 'string' },
      'expires-in': { type: 'string' },
      profile: { type: 'string' },
      'ca-file': { type: 'string' },
      format: { type: 'string' },
      prisma: { type: 'boolean' },
      help: { type: 'boolean' },
    })
    if (values.help) {
      io.stdout.write(URL_USAGE)
      return 0
    }
    const { engine, service, dsql } = resolveTarget(values)
    let expiresInSeconds: number | undefined
    if (values['expires-in'] !== undefined) {
      if (!dsql) {
        throw new UsageError(
          '--expires-in applies to Aurora DSQL only (--service dsql); RDS tokens always live 900 s',
        )
      }
      expiresInSeconds = Number(values['expires-in'])
      if (
        !Number.isInteger(expiresInSeconds) ||
        expiresInSeconds < 1 ||
        expiresInSeconds > DSQL_MAX_EXPIRES_IN_SECONDS
      ) {
        throw new UsageError(
          `--expires-in must be a whole number of seconds from 1 to ${DSQL_MAX_EXPIRES_IN_SECONDS}, got ${String(values['expires-in'])}`,
        )
      }
    }
    const format = (values.format as string | undefined) ?? 'url'
    if (format !== 'url' && format !== 'env') {
      throw new UsageError(`--format must be url or env, got ${JSON.stringify(format)}`)
    }
    const host = values.host as string
    const user = values.user as string
    const port = parsePort(values.port, '--port') ?? DEFAULT_PORTS[engine]
    const signingPort = parsePort(values['signing-port'], '--signing-port')
    const str = (k: string) =>
      typeof values[k] === 'string' && values[k] !== '' ? (values[k] as string) : undefined
    const signingHost = str('signing-host')
    const tunnel = signingHost !== undefined && signingHost.toLowerCase() !== host.toLowerCase()
    if (tunnel && values.prisma) {
      // Prisma's URL parser drops hostaddr (and MySQL URLs have none), so its engine would connect
      // to the name in the URL, the RDS endpoint, bypassing the tunnel without a word.
      throw new UsageError(
        `--prisma cannot go through a tunnel (--signing-host ${signingHost} differs from --host ${host}): Prisma ignores hostaddr and would connect to the host named in the URL. Instead map ${signingHost} to the tunnel's address in /etc/hosts (e.g. 127.0.0.1 ${signingHost}) and run rds-iam url --prisma --host ${signingHost} --port <tunnel port> --signing-port <RDS port>, so the certificate check and the URL name the same host`,
      )
    }
    const provider = createTokenProvider({
      hostname: host,
      port,
      username: user,
      engine,
      ...(str('region') ? { region: str('region') } : {}),
      ...(str('profile') ? { profile: str('profile') } : {}),
      ...(signingHost ? { signingHostname: signingHost } : {}),
      // DSQL tokens name the host alone: the port never enters the signature.
      ...(signingPort && !dsql ? { signingPort } : {}),
      ...(service ? { service } : {}),
      ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
    })
    const caFile = await ensureCaFile(str('ca-file'), env)
    // libpq checks the certificate against the URL's host; hostaddr lets the URL name the RDS
    // endpoint while the socket goes to the tunnel. MySQL URLs have no such parameter.
    const hostaddr = tunnel && engine === 'postgres' ? await tunnelAddress(host) : undefined
    const token = await provider.getToken()
    // DSQL has one database, postgres; a client's default (the user name) would not exist.
    const database = str('database') ?? (dsql ? 'postgres' : undefined)
    const url = buildConnectionUrl({
      engine,
      host,
      port,
      user,
      token,
      caFile,
      ...(database ? { database } : {}),
      ...(hostaddr && signingHost ? { hostaddr, signingHost } : {}),
      ...(values.prisma ? { prisma: true } : {}),
    })
    io.stdout.write(format === 'env' ? `DATABASE_URL='${url}'\n` : `${url}\n`)
    const target = provider.target
    io.stderr.write(
      `rds-iam: ${dsql ? `Aurora DSQL token for role ${user}@${target?.hostname ?? host}` : `token for ${user}@${target?.hostname ?? host}:${target?.port ?? port}`} accepted for new connections until ${tokenTimes(token).expiresAt?.toISOString() ?? '15 minutes from now'}; CA file ${caFile}${
        tunnel && engine === 'mysql'
          ? `\nrds-iam: a MySQL URL cannot name ${signingHost} for the certificate check while connecting to ${host}; use a client option for the TLS server name`
          : ''
      }\n`,
    )
    return 0
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`rds-iam: ${err.message}\n\n${URL_USAGE}`)
      return 2
    }
    throw err
  }
}
