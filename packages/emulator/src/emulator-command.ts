import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { type Emulator, startEmulator } from './start-emulator.js'

/** Where the command writes, and what stops it; `process` fits. */
export interface EmulatorCommandIo {
  stdout: { write(chunk: string): unknown }
  stderr: { write(chunk: string): unknown }
  /** Aborting stops the emulator (as SIGINT/SIGTERM do) and the command returns 0. */
  signal?: AbortSignal
}

const USAGE = `Usage: rds-iam emulator --engine postgres|mysql|dsql [options]

Runs a local RDS IAM endpoint: clients must use TLS and an IAM token as the password,
exactly as on RDS. Verified sessions are relayed to the upstream database.

Options:
  --engine postgres|mysql|dsql
                           Wire protocol to serve (required); dsql: Aurora DSQL tokens
                           (admin → DbConnectAdmin, other roles → DbConnect) on the
                           PostgreSQL protocol
  --proxy                  Stand in for RDS Proxy (postgres, mysql): TLS mandatory,
                           RDS Proxy's documented refusal texts
  --port N                 Port to listen on (default: a free port)
  --upstream URL           postgres://user:pass@host:port/db or mysql://user:pass@host:port/db
                           (postgres default: an embedded PGlite; mysql default:
                           mysql://root@127.0.0.1:3306/test)
  --region R               Region tokens must be signed for (default: us-east-1)
  --endpoint HOST:PORT     host:port tokens must be signed for (default: localhost:<port>);
                           e.g. the RDS endpoint, to test a tunnel (signingHostname);
                           dsql: the cluster host, no port (e.g. abc.dsql.us-east-1.on.aws)
  --ca-file PATH           Where to write the CA certificate (default: a temporary directory)
  --help                   Show this help
`

/** Exit codes, shared with the rds-iam CLI: 0 success, 1 runtime failure, 2 usage error. */
const EXIT = { OK: 0, FAILURE: 1, USAGE: 2 } as const

/**
 * `rds-iam emulator …`: starts an emulator, writes its CA to a file, prints the endpoint, region,
 * test credentials and ready-to-paste `psql` / `mariadb` commands, logs every login verdict, and
 * stops cleanly on SIGINT, SIGTERM or `io.signal`. Never throws; returns the exit code.
 *
 * @example
 * ```ts
 * const code = await runEmulatorCommand(['--engine', 'postgres'], process)
 * ```
 */
export async function runEmulatorCommand(argv: string[], io: EmulatorCommandIo): Promise<number> {
  let values: {
    engine?: string
    port?: string
    upstream?: string
    region?: string
    endpoint?: string
    'ca-file'?: string
    proxy?: boolean
    help?: boolean
  }
  try {
    values = parseArgs({
      args: argv,
      options: {
        engine: { type: 'string' },
        port: { type: 'string' },
        upstream: { type: 'string' },
        region: { type: 'string' },
        endpoint: { type: 'string' },
        'ca-file': { type: 'string' },
        proxy: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values
  } catch (err) {
    io.stderr.write(`rds-iam emulator: ${(err as Error).message}\n\n${USAGE}`)
    return EXIT.USAGE
  }
  if (values.help === true) {
    io.stdout.write(USAGE)
    return EXIT.OK
  }
  const engine = values.engine
  if (engine !== 'postgres' && engine !== 'mysql' && engine !== 'dsql') {
    io.stderr.write(`rds-iam emulator: --engine must be postgres, mysql or dsql\n\n${USAGE}`)
    return EXIT.USAGE
  }
  if (values.proxy === true && engine === 'dsql') {
    io.stderr.write(
      'rds-iam emulator: --proxy works with --engine postgres or mysql (RDS Proxy does not front DSQL)\n',
    )
    return EXIT.USAGE
  }
  let port: number | undefined
  if (values.port !== undefined) {
    port = Number(values.port)
    if (!/^\d+$/.test(values.port) || port > 65535) {
      io.stderr.write(`rds-iam emulator: --port must be a number from 0 to 65535, got ${values.port}\n`)
      return EXIT.USAGE
    }
  }
  if (
    values.endpoint !== undefined &&
    engine === 'dsql' &&
    !/^[^:\s/]+(?::\d{1,5})?$/.test(values.endpoint)
  ) {
    io.stderr.write(
      `rds-iam emulator: --endpoint for dsql is the cluster host (e.g. abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws), got ${values.endpoint}\n`,
    )
    return EXIT.USAGE
  }
  if (values.endpoint !== undefined && engine !== 'dsql' && !isEndpoint(values.endpoint)) {
    io.stderr.write(
      `rds-iam emulator: --endpoint must be host:port (e.g. mydb.abc123.eu-west-1.rds.amazonaws.com:5432), got ${values.endpoint}\n`,
    )
    return EXIT.USAGE
  }
  if (io.signal?.aborted) return EXIT.OK

  let emulator: Emulator
  try {
    emulator = await startEmulator({
      engine,
      ...(values.proxy === true ? { proxy: true } : {}),
      ...(port === undefined ? {} : { port }),
      ...(values.upstream === undefined ? {} : { upstream: values.upstream }),
      ...(values.region === undefined ? {} : { region: values.region }),
      ...(values.endpoint === undefined ? {} : { endpoint: values.endpoint }),
      log: (line) => io.stdout.write(`${new Date().toISOString()} ${line}\n`),
    })
  } catch (err) {
    io.stderr.write(`rds-iam emulator: could not start: ${(err as Error).message}\n`)
    return EXIT.FAILURE
  }

  let caFile: string
  let tempDir: string | undefined
  try {
    if (values['ca-file'] === undefined) {
      tempDir = await mkdtemp(join(tmpdir(), 'rds-iam-emulator-'))
      caFile = join(tempDir, 'ca.pem')
    } else {
      caFile = resolve(values['ca-file'])
      await mkdir(dirname(caFile), { recursive: true })
    }
    await writeFile(caFile, emulator.ca)
  } catch (err) {
    io.stderr.write(`rds-iam emulator: cannot write the CA file: ${(err as Error).message}\n`)
    await emulator.stop()
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true })
    return EXIT.FAILURE
  }

  io.stdout.write(describe(emulator, engine, values.upstream, caFile, values.proxy === true))
  await waitForStop(io.signal)
  io.stdout.write('rds-iam emulator: stopping\n')
  await emulator.stop()
  if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true })
  return EXIT.OK
}

function describe(
  emu: Emulator,
  engine: 'postgres' | 'mysql' | 'dsql',
  upstream: string | undefined,
  caFile: string,
  proxy: boolean,
): string {
  const key = emu.credentials[0]!
  const shownUpstream =
    upstream === undefined
      ? engine !== 'mysql'
        ? 'embedded PGlite (every session runs as postgres)'
        : 'mysql://root@127.0.0.1:3306/test'
      : hidePassword(upstream)
  // Tokens are signed for the endpoint; clients connect to where the emulator listens (the same
  // place unless --endpoint names another, as through a tunnel).
  const [signHost, signPort] =
    engine === 'dsql' ? [emu.endpoint, String(emu.port)] : splitEndpoint(emu.endpoint)
  const user = engine === 'dsql' ? 'admin' : 'app'
  const token =
    engine === 'dsql'
      ? `$(rds-iam token --engine dsql --hostname ${signHost} --username admin --region ${emu.region})`
      : `$(rds-iam token --hostname ${signHost} --port ${signPort} --username app --region ${emu.region})`
  // psql checks the certificate against the name it connects to; the DSQL cluster host is on the
  // certificate too, but it resolves nowhere locally, so psql is pointed at localhost.
  // MariaDB 10.x clients send mysql_clear_password over TLS without --enable-cleartext-plugin
  // (10.11 calls that option obsolete and warns); MySQL's own mysql client still needs it, and
  // MySQL 8.0 removed --ssl / --ssl-verify-server-cert, so it gets its own line with --ssl-mode.
  const connect =
    engine !== 'mysql'
      ? `PGPASSWORD="${token}" psql "host=${emu.host} port=${emu.port} user=${user} dbname=postgres sslmode=verify-full sslrootcert=${caFile}"`
      : `mariadb --host=${emu.host} --port=${emu.port} --user=app --password="${token}" --ssl --ssl-ca=${caFile} --ssl-verify-server-cert`
  const clientNote =
    engine !== 'mysql'
      ? []
      : [
          "  MySQL 8's mysql client (no --ssl / --ssl-verify-server-cert since 8.0; needs the cleartext plugin):",
          `  mysql --host=${emu.host} --port=${emu.port} --user=app --password="${token}" --ssl-mode=VERIFY_IDENTITY --ssl-ca=${caFile} --enable-cleartext-plugin`,
          '  (mysql2: authPlugins mysql_clear_password)',
        ]
  return [
    `rds-iam emulator (${engine === 'dsql' ? 'Aurora DSQL' : engine}${proxy ? ', as RDS Proxy' : ''}) is listening`,
    `  listening on       ${emu.host}:${emu.port}`,
    `  endpoint           ${emu.endpoint}${emu.endpoint === `${emu.host}:${emu.port}` ? '' : ' (tokens are signed for this)'}`,
    `  region             ${emu.region}`,
    `  CA file            ${caFile}`,
    `  upstream           ${shownUpstream}`,
    `  access key id      ${key.accessKeyId}`,
    `  secret access key  ${key.secretAccessKey}`,
    '',
    'Sign tokens with the test key (it works only against this emulator):',
    `  export AWS_ACCESS_KEY_ID=${key.accessKeyId}`,
    `  export AWS_SECRET_ACCESS_KEY=${key.secretAccessKey}`,
    `  export AWS_REGION=${emu.region}`,
    '',
    'Connect (the user must exist upstream unless the upstream URL names one):',
    `  ${connect}`,
    ...clientNote,
    '',
    'Press Ctrl+C to stop.',
    '',
  ].join('\n')
}

/** `host:port` with a port from 1 to 65535; IPv6 hosts in brackets. */
function isEndpoint(value: string): boolean {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(value)
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535
}

function splitEndpoint(endpoint: string): [string, string] {
  const i = endpoint.lastIndexOf(':')
  return [endpoint.slice(0, i).replace(/^\[(.*)\]$/, '$1'), endpoint.slice(i + 1)]
}

function hidePassword(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return '(unparseable URL)'
  }
}

function waitForStop(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolveStop) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      signal?.removeEventListener('abort', stop)
      resolveStop()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    signal?.addEventListener('abort', stop, { once: true })
    if (signal?.aborted) stop()
  })
}
