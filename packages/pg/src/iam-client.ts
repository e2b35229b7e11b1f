import {
  type ConnectionAuth,
  type IamOptions,
  isAuthError,
  type TokenProvider,
  withAuthRetry,
} from '@rds-iam/core'
import type { ClientConfig, Client as PgClient } from 'pg'
import { explainConnectError } from './connect-errors.js'
import type { PgInjection } from './iam-pool.js'
import type { PgModuleLike } from './internal-types.js'
import { lazyPgClass } from './lazy-class.js'
import { assertJsClient, loadPg } from './pg-module.js'
import { type IamPgConfig, prepareIamConfig, rememberProvider } from './with-iam.js'

/** A pg `ClientConfig` with `iam` (required here). */
export type IamClientConfig = Omit<ClientConfig, 'password' | 'ssl' | 'port'> &
  IamPgConfig & { iam: IamPgConfig['iam'] }

type ClientClass = new (config: IamClientConfig) => PgClient
type Internals = {
  connection?: {
    removeAllListeners(): void
    on(e: string, f: () => void): void
    stream?: { destroy(): void }
  }
}
/** pg.Client state read here (stable across pg 8.x). */
type ClientInternals = {
  _ending?: boolean
  _errorAllQueries?: (err: unknown) => void
}
const clientClasses = new WeakMap<PgModuleLike, ClientClass>()
// EventEmitter state stays (the user's listeners), and queries queued before connect() stay queued.
const KEEP_ON_RESET = new Set(['_events', '_eventsCount', '_maxListeners', '_queryQueue'])

/**
 * The IAM client class for a given `pg` module (a real subclass of its `Client`). `connect()`
 * retries authentication failures with a fresh token; other errors are never retried.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * const IamClient = createClientClass(pg)
 * const client = new IamClient({ host, user: 'app', iam: true })
 * ```
 */
export function createClientClass(pg: PgModuleLike): ClientClass {
  const existing = clientClasses.get(pg)
  if (existing) return existing
  assertJsClient(pg.Client)
  const Base = pg.Client as unknown as new (config: object) => PgClient
  const state = new WeakMap<
    object,
    { provider: TokenProvider; iam: IamOptions; config: object; auth: ConnectionAuth }
  >()

  class IamClient extends Base {
    constructor(config: IamClientConfig) {
      const prepared = prepareIamConfig(config, false)
      super(prepared.config)
      state.set(this, {
        provider: prepared.provider,
        iam: prepared.iam,
        config: prepared.config,
        auth: prepared.auth,
      })
      rememberProvider(this, prepared.provider)
    }

    override connect(): Promise<PgClient>
    override connect(callback: ((err: Error) => void) | ((err: null, c: PgClient) => void)): void
    override connect(callback?: (...args: never[]) => void): Promise<PgClient> | undefined {
      const { provider, iam, config, auth } = state.get(this)!
      const self = this as unknown as ClientInternals
      const run = withAuthRetry(
        async (attempt, isLastAttempt) => {
          // end() during the backoff: the reset below would clear pg's _ending flag.
          if (attempt > 1) {
            if (self._ending) throw endedWhileConnecting(self)
            resetForReconnect(this as PgClient, Base, config)
          }
          // The token first, the socket second: a broken credential source fails here with
          // RDS_IAM_CREDENTIALS instead of holding a half-open login until a server timeout.
          try {
            await auth.prepare()
          } catch (err) {
            // pg fails queries queued before connect() when its connection fails; do the same.
            self._errorAllQueries?.(err)
            throw err
          }
          // end() while the token was prepared found no socket, so pg resolved it at once; opening
          // one now would log in a session nobody will close (it keeps the process alive).
          if (self._ending) throw endedWhileConnecting(self)
          try {
            await super.connect()
          } catch (err) {
            // Detach before the dead connection reports 'end', so a retried attempt is invisible
            // to the caller's listeners; the last failure behaves exactly like pg.
            if (!isLastAttempt && isAuthError(err)) detachConnection(this as PgClient)
            throw err
          }
          return this as PgClient
        },
        provider,
        iam.retry,
      ).catch((err: unknown) => {
        throw explainConnectError(err, auth)
      })
      if (typeof callback !== 'function') return run
      run.then(
        () => process.nextTick(callback as (err: null, c: PgClient) => void, null, this as PgClient),
        (err: Error) => process.nextTick(callback as (err: Error) => void, err),
      )
      return undefined
    }
  }
  clientClasses.set(pg, IamClient as unknown as ClientClass)
  return IamClient as unknown as ClientClass
}

/**
 * A pg Client cannot connect twice, so before a retry this one takes the initial state of a
 * brand-new client (a new connection object, cleared flags) while keeping the caller's object,
 * its listeners and its queued queries. The old connection is detached first so its late
 * events cannot reach the new attempt.
 */
function resetForReconnect(client: PgClient, Base: new (config: object) => PgClient, config: object): void {
  detachConnection(client)
  const fresh = new Base(config)
  for (const [key, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(fresh))) {
    if (!KEEP_ON_RESET.has(key)) Object.defineProperty(client, key, descriptor)
  }
}

/**
 * What pg itself reports for a connection ended by `client.end()` (a plain `Error('Connection
 * terminated')`, also given to queries still queued), so code written for pg handles it as usual.
 */
function endedWhileConnecting(client: ClientInternals): Error {
  const err = new Error('Connection terminated')
  client._errorAllQueries?.(err)
  return err
}

function detachConnection(client: PgClient): void {
  const old = (client as unknown as Internals).connection
  if (!old) return
  old.removeAllListeners()
  old.on('error', () => {})
  old.stream?.destroy()
}

/**
 * Creates an IAM client on the application's `pg` (or the one injected).
 *
 * @example
 * ```ts
 * const client = createClient({ host, user: 'app', database: 'app', iam: true })
 * await client.connect()
 * ```
 */
export function createClient(config: IamClientConfig, injection: PgInjection = {}): PgClient {
  return new (createClientClass(injection.pg ?? loadPg()))(config)
}

/**
 * `pg.Client` with IAM authentication (a real `pg.Client` of the application's pg, loaded on
 * first use). `connect()` retries authentication failures with a fresh token.
 *
 * @example
 * ```ts
 * import { Client } from '@rds-iam/pg'
 * const client = new Client({ host: 'db.abc.eu-west-1.rds.amazonaws.com', user: 'app', iam: true })
 * await client.connect()
 * ```
 */
export const Client: ClientClass = lazyPgClass('Client', createClientClass)

/** The type of a client made by {@link Client} / {@link createClient}: a `pg.Client`. */
export type Client = PgClient
