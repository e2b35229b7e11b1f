import { type ParseArgsConfig, parseArgs } from 'node:util'
import { type DatabaseEngine, type IamService, parseRdsHostname } from '@rds-iam/core'

/** A command line that cannot run. The command prints it with its usage and exits with code 2. */
export class UsageError extends Error {}

/** Parsed flags: a string per string flag, `true` per boolean flag given. */
export type Flags = Record<string, string | boolean | undefined>

/**
 * Parses `argv` strictly (no positionals): an unknown, repeated-as-wrong-type or value-less flag
 * becomes a {@link UsageError} carrying `node:util`'s own message.
 *
 * @example
 * ```ts
 * const values = parseFlags(['--host', 'db'], { host: { type: 'string' } }) // { host: 'db' }
 * ```
 */
export function parseFlags(argv: string[], options: NonNullable<ParseArgsConfig['options']>): Flags {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: false, options }).values as Flags
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

/**
 * One flag spelled two ways (`--hostname` / `--host`): the value of whichever was given. Both at
 * once is an error only when they disagree, so a script that passes both stays valid.
 *
 * @example
 * ```ts
 * either({ host: 'db' }, 'hostname', 'host') // 'db'
 * ```
 */
export function either(values: Flags, name: string, alias: string): string | undefined {
  const a = values[name]
  const b = values[alias]
  if (typeof a === 'string' && typeof b === 'string' && a !== b) {
    throw new UsageError(`--${name} and --${alias} name the same thing; give one (got ${a} and ${b})`)
  }
  return (typeof a === 'string' ? a : undefined) ?? (typeof b === 'string' ? b : undefined)
}

/**
 * A TCP port flag, or `undefined` when it was not given.
 *
 * @example
 * ```ts
 * parsePort('5432', '--port') // 5432
 * ```
 */
export function parsePort(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined
  const port = Number(value)
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`${flag} must be a number between 1 and 65535, got ${String(value)}`)
  }
  return port
}

/** What `doctor` and `url` connect to: the wire protocol and which token to sign. */
export interface Target {
  engine: DatabaseEngine
  /** Only when given (or implied by `--engine dsql`); otherwise core decides from the host name. */
  service?: IamService
  /** Aurora DSQL: from `--service`/`--engine dsql`, else from the signing host's name. */
  dsql: boolean
  /** `--signing-host`, else `--host`. */
  signHost: string
}

/**
 * `--engine`, `--service`, `--host` and `--user` of `doctor` and `url`. `--engine dsql` (the
 * spelling of `rds-iam token` and `rds-iam emulator`) is short for `--service dsql`: DSQL speaks
 * PostgreSQL only, so its engine goes without saying.
 *
 * @example
 * ```ts
 * resolveTarget({ host: 'x.dsql.us-east-1.on.aws', user: 'admin' }) // { engine: 'postgres', dsql: true, … }
 * ```
 */
export function resolveTarget(values: Flags): Target {
  let service = values.service as string | undefined
  if (service !== undefined && service !== 'rds' && service !== 'dsql') {
    throw new UsageError(`--service must be rds or dsql, got ${JSON.stringify(service)}`)
  }
  let engine = values.engine as string | undefined
  if (engine === 'dsql') {
    if (service === 'rds') throw new UsageError('--engine dsql contradicts --service rds; give one')
    service = 'dsql'
    engine = undefined
  }
  const signHost = String(values['signing-host'] || values.host || '')
  const dsql = service === 'dsql' || (service === undefined && parseRdsHostname(signHost).kind === 'dsql')
  if (dsql) engine ??= 'postgres'
  const missing = [
    ...(values.host ? [] : ['--host']),
    ...(values.user ? [] : ['--user']),
    ...(engine ? [] : ['--engine']),
  ]
  if (missing.length > 0) throw new UsageError(`missing ${missing.join(', ')}`)
  if (engine !== 'postgres' && engine !== 'mysql') {
    throw new UsageError(`--engine must be postgres, mysql or dsql, got ${JSON.stringify(engine)}`)
  }
  if (dsql && engine === 'mysql') {
    throw new UsageError(
      `${signHost} is an Aurora DSQL cluster, which speaks PostgreSQL only: use --engine postgres (or leave --engine out)${service === 'dsql' ? ', or drop --service dsql if this is not DSQL' : ''}`,
    )
  }
  return { engine, ...(service ? { service: service as IamService } : {}), dsql, signHost }
}
