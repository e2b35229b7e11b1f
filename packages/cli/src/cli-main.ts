import { createTokenProvider, parseRdsHostname, RdsIamError } from '@rds-iam/core'
import pkg from '../package.json' with { type: 'json' }
import { either, parseFlags, parsePort, UsageError } from './cli-args.js'
import { doctorCommand } from './doctor-command.js'
import { urlCommand } from './url-command.js'

/** Where the CLI writes; `process.stdout`/`process.stderr` in the bin, buffers in tests. */
export interface CliIo {
  stdout: { write(chunk: string): unknown }
  stderr: { write(chunk: string): unknown }
  /** Stops long-running commands (the emulator). */
  signal?: AbortSignal
}

/** What `@rds-iam/emulator` provides for `rds-iam emulator …`. */
interface EmulatorModule {
  runEmulatorCommand?: (argv: string[], io: CliIo) => Promise<number>
}

/** Exit codes: 0 success, 1 runtime failure, 2 usage error. */
export const ExitCode = { OK: 0, FAILURE: 1, USAGE: 2 } as const

const USAGE = `Usage: rds-iam <command> [options]

Commands:
  token      Print an IAM auth token (like aws rds generate-db-auth-token)
  url        Print a connection URL with a fresh token (psql, Prisma Migrate, db-migrate)
  doctor     Check region, credentials, token, DNS, TCP, TLS and login; explain each failure
  emulator   Run a local RDS IAM endpoint (rds-iam emulator --help)

Options:
  --help     Show help
  --version  Show the version
`

const TOKEN_USAGE = `Usage: rds-iam token --hostname HOST --port PORT --username USER [--region REGION] [--profile NAME]
       rds-iam token --engine dsql --hostname CLUSTER_HOST --username ROLE [--expires-in SECONDS]

Prints an IAM auth token for the database user on stdout. Credentials come from the AWS default
chain (environment, ~/.aws, SSO, instance/task role) or --profile. The region defaults to the one
in the hostname, then AWS_REGION / AWS_DEFAULT_REGION.

Options:
  --hostname HOST   RDS/Aurora/Proxy endpoint or Aurora DSQL cluster host the token is for
                    (required; --host also works, as in url and doctor)
  --port PORT       Database port, e.g. 5432 or 3306 (required for RDS; DSQL tokens name no port)
  --username USER   Database user; for DSQL the role (admin → DbConnectAdmin, others → DbConnect)
                    (required; --user also works)
  --engine rds|dsql Which service to sign for (default: dsql for <id>.dsql.<region>.on.aws, else rds)
  --expires-in S    DSQL only: token lifetime in seconds, 1 to 604800 (default 900)
  --region REGION   AWS region, e.g. eu-west-1
  --profile NAME    AWS profile to take credentials from
  --help            Show this help
`

// On the command line the fix for a missing region is a flag, not an `iam` option.
const CLI_HINTS: Partial<Record<string, string>> = {
  RDS_IAM_NO_REGION: 'pass --region eu-west-1 (the region the database runs in) or set AWS_REGION',
  RDS_IAM_CREDENTIALS:
    'set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --profile, or run where a role is attached',
}

function describe(err: unknown): string {
  if (err instanceof RdsIamError) {
    const cause = err.cause instanceof Error ? `\n  cause: ${err.cause.message}` : ''
    const cliHint = CLI_HINTS[err.code]
    return `rds-iam: ${err.message}${cause}${cliHint ? `\n  on the command line: ${cliHint}` : ''}\n`
  }
  return `rds-iam: ${err instanceof Error ? err.message : String(err)}\n`
}

async function tokenCommand(argv: string[], io: CliIo): Promise<number> {
  try {
    return await signToken(argv, io)
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${err.message}\n\n${TOKEN_USAGE}`)
    throw err
  }
}

async function signToken(argv: string[], io: CliIo): Promise<number> {
  const values = parseFlags(argv, {
    hostname: { type: 'string' },
    port: { type: 'string' },
    username: { type: 'string' },
    // The spellings of `rds-iam url` and `rds-iam doctor`.
    host: { type: 'string' },
    user: { type: 'string' },
    region: { type: 'string' },
    profile: { type: 'string' },
    engine: { type: 'string' },
    'expires-in': { type: 'string' },
    help: { type: 'boolean' },
  })
  if (values.help) {
    io.stdout.write(TOKEN_USAGE)
    return ExitCode.OK
  }
  const hostname = either(values, 'hostname', 'host')
  const username = either(values, 'username', 'user')
  const engine = values.engine as string | undefined
  if (engine !== undefined && engine !== 'rds' && engine !== 'dsql') {
    throw new UsageError(`--engine must be rds or dsql, got ${engine}`)
  }
  const dsql = engine === 'dsql' || (engine === undefined && parseRdsHostname(hostname ?? '').kind === 'dsql')
  let expiresInSeconds: number | undefined
  if (values['expires-in'] !== undefined) {
    expiresInSeconds = Number(values['expires-in'])
    if (!dsql) throw new UsageError('--expires-in applies to --engine dsql only (RDS tokens live 900 s)')
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > 604_800) {
      throw new UsageError(
        `--expires-in must be a whole number of seconds from 1 to 604800, got ${String(values['expires-in'])}`,
      )
    }
  }
  // DSQL signs the host alone; its port is always 5432 and only fills the provider's input.
  if (dsql) values.port ??= '5432'
  const missing = [
    ...(hostname ? [] : ['--hostname']),
    ...(values.port ? [] : ['--port']),
    ...(username ? [] : ['--username']),
  ]
  if (missing.length > 0) throw new UsageError(`missing ${missing.join(', ')}`)
  const port = parsePort(values.port, '--port') as number
  const provider = createTokenProvider({
    hostname: hostname as string,
    port,
    username: username as string,
    ...(values.region ? { region: values.region as string } : {}),
    ...(values.profile ? { profile: values.profile as string } : {}),
    ...(engine === undefined ? {} : { service: engine as 'rds' | 'dsql' }),
    ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
  })
  io.stdout.write(`${await provider.getToken()}\n`)
  return ExitCode.OK
}

/** Printed when `@rds-iam/emulator` is not installed: the CLI does not pull in PGlite for `token` users. */
export const EMULATOR_MISSING = `rds-iam: the emulator command needs @rds-iam/emulator, which is not installed.
  Install it next to @rds-iam/cli:
    npm install --save-dev @rds-iam/emulator        (in a project)
    npm install --global @rds-iam/emulator          (next to a global @rds-iam/cli)
    npx -p @rds-iam/cli -p @rds-iam/emulator rds-iam emulator --engine postgres
`

/** True when `err` says `@rds-iam/emulator` itself cannot be found (not a module it imports). */
function isEmulatorMissing(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown }
  return (
    (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    /['"]@rds-iam\/emulator['"]/.test(e.message)
  )
}

/**
 * `rds-iam emulator …`: runs the optional peer `@rds-iam/emulator`. `load` is replaceable so the
 * "not installed" answer can be tested inside a workspace where the package is always present.
 */
export async function emulatorCommand(
  argv: string[],
  io: CliIo,
  load: () => Promise<unknown> = () => import('@rds-iam/emulator'),
): Promise<number> {
  let mod: EmulatorModule
  try {
    mod = (await load()) as EmulatorModule
  } catch (err) {
    io.stderr.write(
      isEmulatorMissing(err)
        ? EMULATOR_MISSING
        : `rds-iam: cannot load @rds-iam/emulator (${(err as Error).message}); reinstall it next to @rds-iam/cli\n`,
    )
    return ExitCode.FAILURE
  }
  if (typeof mod.runEmulatorCommand !== 'function') {
    io.stderr.write(
      'rds-iam: this version of @rds-iam/emulator has no command line (runEmulatorCommand); update it: npm install @rds-iam/emulator@latest\n',
    )
    return ExitCode.FAILURE
  }
  return mod.runEmulatorCommand(argv, io)
}

/**
 * Runs the `rds-iam` command line with `argv` (without `node` and the script) and returns the
 * exit code. Never throws and never calls `process.exit`, so tests can call it directly.
 *
 * @example
 * ```ts
 * const code = await main(['token', '--hostname', host, '--port', '5432', '--username', 'app'], process)
 * ```
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'token':
        return await tokenCommand(rest, io)
      case 'emulator':
        return await emulatorCommand(rest, io)
      case 'doctor':
        return await doctorCommand(rest, io)
      case 'url':
        return await urlCommand(rest, io)
      case '--version':
      case '-v':
        io.stdout.write(`${pkg.version}\n`)
        return ExitCode.OK
      case '--help':
      case '-h':
      case 'help':
        io.stdout.write(USAGE)
        return ExitCode.OK
      case undefined:
        throw new UsageError(`no command given\n\n${USAGE}`)
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`)
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`rds-iam: ${err.message}${err.message.endsWith('\n') ? '' : '\n'}`)
      return ExitCode.USAGE
    }
    io.stderr.write(describe(err))
    return ExitCode.FAILURE
  }
}
