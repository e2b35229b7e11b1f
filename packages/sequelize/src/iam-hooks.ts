import {
  checkPeerVersion,
  type IamOption,
  normalizeIamOptions,
  type TokenProvider,
  withAuthRetry,
} from '@rds-iam/core'
import { checkDialect, checkNoPassword, checkNotNative, endpointConfigs } from './config-checks.js'
import { EndpointRegistry, invalid } from './endpoint-registry.js'
import type { ConnectionManagerLike, EndpointConfig, SequelizeLike } from './internal-types.js'
import { boundCreatesToWaiters } from './pool-creates.js'
import { SUPPORTED_SEQUELIZE_VERSIONS } from './supported-versions.js'

/**
 * The name `addIamHooks` gives its `beforeConnect` hook, as Sequelize's named hooks go.
 *
 * @example
 * ```ts
 * addIamHooks(sequelize, true) // adds a beforeConnect hook named IAM_HOOK_NAME ('rdsIam')
 * removeIamHooks(sequelize) // takes IAM off; removeHook('beforeConnect', IAM_HOOK_NAME) alone would leave the retry wrapper signing
 * ```
 */
export const IAM_HOOK_NAME = 'rdsIam'

type BeforeConnectHook = (this: unknown, config: EndpointConfig) => Promise<void>

const registries = new WeakMap<object, EndpointRegistry>()
const retried = new WeakSet<object>()
// What removeIamHooks puts back: each manager's own `connect` property before the retry wrapper
// (undefined: it was the prototype's), and the last token each config was given.
const unwrappedConnect = new WeakMap<object, PropertyDescriptor | undefined>()
const givenTokens = new WeakMap<object, string>()

/**
 * The `beforeConnect` hook: Sequelize runs it before every new physical connection (pool and
 * version probe), up to `pool.max` at once on one shared config object per endpoint. It gives that
 * endpoint's config its TLS options and a current token for *its* host, port and user.
 */
export function createBeforeConnectHook(registry: EndpointRegistry): BeforeConnectHook {
  const hook: BeforeConnectHook = async function rdsIamBeforeConnect(config) {
    // Hooks run with `this` = the Sequelize instance; the retry wrapper is installed on first use
    // so that options built by withIam (no instance yet) still get it before the first connect.
    checkPeerVersion(
      'sequelize',
      (this as { constructor?: { version?: string } })?.constructor?.version,
      SUPPORTED_SEQUELIZE_VERSIONS,
    )
    const manager = (this as Partial<SequelizeLike> | undefined)?.connectionManager
    if (manager && typeof manager.connect === 'function') installConnectRetry(manager, registry)
    const endpoint = registry.endpointFor(config)
    const dialectOptions = endpoint.dialectOptionsFor(config.dialectOptions)
    if (config.dialectOptions !== dialectOptions) config.dialectOptions = dialectOptions
    setPassword(config, await endpoint.auth.nextToken())
  }
  registries.set(hook, registry)
  return hook
}

/**
 * Concurrent hooks on one endpoint all write a current token of the same provider, so the last
 * writer winning is harmless. Non-enumerable, so logging the Sequelize instance never prints it.
 */
function setPassword(config: EndpointConfig, token: string): void {
  givenTokens.set(config, token)
  Object.defineProperty(config, 'password', {
    value: token,
    enumerable: false,
    writable: true,
    configurable: true,
  })
}

/**
 * Runs the dialect's `connect` inside core's `withAuthRetry`: an authentication failure
 * (`SequelizeConnectionError` with SQLSTATE 28000, `SequelizeAccessDeniedError` with errno 1045)
 * invalidates the endpoint's token and reconnects with a fresh one; the last failure becomes
 * `RDS_IAM_AUTH_FAILED` with Sequelize's error as `cause`. Other errors pass through unchanged.
 * The pool is kept from starting creates no caller waits for, so a caller costs at most
 * `maxAttempts` logins (see pool-creates.ts).
 */
export function installConnectRetry(manager: ConnectionManagerLike, registry: EndpointRegistry): void {
  if (retried.has(manager)) return
  retried.add(manager)
  boundCreatesToWaiters(manager.pool)
  unwrappedConnect.set(manager, Object.getOwnPropertyDescriptor(manager, 'connect'))
  const original = manager.connect
  Object.defineProperty(manager, 'connect', {
    configurable: true,
    writable: true,
    value: function connect(this: ConnectionManagerLike, config: EndpointConfig): Promise<unknown> {
      const endpoint = registry.endpointFor(config)
      return withAuthRetry(
        async (attempt) => {
          // beforeConnect ran once, before the first attempt; later attempts need a new token.
          if (attempt > 1) setPassword(config, await endpoint.auth.nextToken())
          return hideDriverPassword(await original.call(this, config))
        },
        endpoint.auth.provider,
        registry.iam.retry,
      )
    },
  })
}

/**
 * mysql2 keeps the password it logged in with as an ordinary property of `connection.config`; for
 * an IAM login that is the token, and logging a pooled connection or the Sequelize instance would
 * print it. It stays readable (a `changeUser` needs it). pg already hides its copy.
 */
function hideDriverPassword<T>(connection: T): T {
  const holder = (connection as { config?: unknown } | null)?.config
  if (holder && typeof holder === 'object' && Object.hasOwn(holder, 'password')) {
    Object.defineProperty(holder, 'password', { enumerable: false })
  }
  return connection
}

/**
 * Adds IAM authentication to a Sequelize instance built elsewhere (e.g. `new Sequelize(url)` in
 * a framework): a `beforeConnect` hook named `rdsIam` that signs a token per connection for that
 * connection's host, port and user, TLS verified against the RDS CA bundle, and retries on
 * authentication failure. Call it before the first query. Bad settings throw before any network
 * traffic. Returns the instance.
 *
 * @example
 * ```ts
 * import { Sequelize } from 'sequelize'
 * import { addIamHooks } from '@rds-iam/sequelize'
 * const sequelize = new Sequelize('postgres://app_user@mydb.abc123.eu-west-1.rds.amazonaws.com:5432/app')
 * addIamHooks(sequelize, { region: 'eu-west-1' })
 * await sequelize.authenticate()
 * ```
 */
export function addIamHooks<S extends object>(sequelize: S, iam: IamOption = true): S {
  const instance = sequelize as unknown as SequelizeLike
  if (
    !instance ||
    typeof instance.getDialect !== 'function' ||
    typeof instance.addHook !== 'function' ||
    !instance.connectionManager
  ) {
    throw invalid('addIamHooks needs a Sequelize instance', 'pass the object made by `new Sequelize(...)`')
  }
  if (findRegistry(instance)) {
    throw invalid(
      'this Sequelize instance already has IAM hooks',
      'call addIamHooks once per instance (withIam options already include them)',
    )
  }
  const dialect = checkDialect(instance.getDialect())
  const normalized = normalizeIamOptions(iam)
  const manager = instance.connectionManager
  const config = manager.config
  if (dialect === 'postgres') checkNotNative(config.native ?? instance.options.native, manager.lib)
  checkNoPassword(config, 'the Sequelize options')
  const registry = new EndpointRegistry(dialect, normalized)
  for (const { config: endpoint, where } of endpointConfigs(config, config.replication)) {
    checkNoPassword(endpoint, where)
    registry.endpointFor(endpoint).dialectOptionsFor(endpoint.dialectOptions)
  }
  const hook = createBeforeConnectHook(registry)
  instance.addHook('beforeConnect', IAM_HOOK_NAME, hook)
  installConnectRetry(manager, registry)
  return sequelize
}

/**
 * Takes IAM off a Sequelize instance (from `withIam` options or `addIamHooks`): removes the IAM
 * `beforeConnect` hook (your own hooks stay), the retry wrapper around the connection manager's
 * `connect`, and the last token from the connection configs (their password is `null` again,
 * their `dialectOptions` yours again). New connections then log in as plain Sequelize would;
 * connections already open stay open, and one being opened at that moment finishes as it began.
 * `addIamHooks` can be called again afterwards. Nothing to remove is not an error. Returns the
 * instance.
 *
 * @example
 * ```ts
 * removeIamHooks(sequelize) // new connections no longer get tokens, and none is left behind
 * ```
 */
export function removeIamHooks<S extends object>(sequelize: S): S {
  const instance = sequelize as unknown as Partial<SequelizeLike>
  const manager = instance?.connectionManager
  if (!instance?.options || !manager?.config) {
    throw invalid('removeIamHooks needs a Sequelize instance', 'pass the object made by `new Sequelize(...)`')
  }
  const registry = findRegistry(instance)
  const hooks = instance.options.hooks
  const list = hooks?.beforeConnect
  if (hooks && Array.isArray(list)) {
    // Sequelize keeps hooks as bare functions (from the `hooks` option, as withIam adds it) or
    // `{ name, fn }` (addHook with a name, as addIamHooks adds it); removeHook handles only one
    // form per call, so the list is filtered here: every IAM hook goes, nothing else.
    hooks.beforeConnect = list.filter((entry) => {
      const fn = typeof entry === 'function' ? entry : (entry as { fn?: unknown } | null)?.fn
      return !(typeof fn === 'function' && registries.has(fn))
    })
  }
  if (retried.has(manager)) {
    const own = unwrappedConnect.get(manager)
    if (own) Object.defineProperty(manager, 'connect', own)
    else delete (manager as Partial<ConnectionManagerLike>).connect
    unwrappedConnect.delete(manager)
    retried.delete(manager)
  }
  const { replication } = manager.config
  const reads = replication ? replication.read : undefined
  const configs = [
    manager.config,
    ...(replication ? [replication.write] : []),
    ...(Array.isArray(reads) ? reads : reads ? [reads] : []),
  ]
  for (const config of configs) {
    if (!config) continue
    // Only a password this adapter set is cleared: one the user set since then is theirs.
    if (givenTokens.has(config) && config.password === givenTokens.get(config)) {
      Object.defineProperty(config, 'password', {
        value: null,
        enumerable: true,
        writable: true,
        configurable: true,
      })
    }
    givenTokens.delete(config)
    const source = registry?.sourceOf(config.dialectOptions)
    if (source) config.dialectOptions = source.options
  }
  return sequelize
}

/** The registry behind options from `withIam` or an instance with our hook. */
export function findRegistry(target: object): EndpointRegistry | undefined {
  const direct = registries.get(target)
  if (direct) return direct
  const hooks = (target as { options?: { hooks?: Record<string, unknown> } }).options?.hooks
  const list = hooks?.beforeConnect
  for (const entry of Array.isArray(list) ? list : list ? [list] : []) {
    const fn = typeof entry === 'function' ? entry : (entry as { fn?: unknown })?.fn
    const found = typeof fn === 'function' ? registries.get(fn) : undefined
    if (found) return found
  }
  return undefined
}

/** @internal Lets `withIam` find the registry from the options object it returns. */
export function rememberRegistry(target: object, registry: EndpointRegistry): void {
  registries.set(target, registry)
}

/**
 * The token provider behind a Sequelize instance (or options from `withIam`): `stats()` for
 * metrics, `invalidate()` after an out-of-band failure. Without `endpoint` it is the writer's
 * (or the only host's); with replication, name a reader's `host` (and `port`, `username` if
 * they differ) to get that reader's provider.
 *
 * @example
 * ```ts
 * const sequelize = new Sequelize(withIam({ dialect: 'postgres', host, username: 'app', iam: true }))
 * await sequelize.authenticate()
 * console.log(getTokenProvider(sequelize)?.stats()) // { signed: 1, hits: 0, … }
 * ```
 */
export function getTokenProvider(
  target: object,
  endpoint?: { host: string; port?: number; username?: string },
): TokenProvider | undefined {
  const registry = findRegistry(target)
  if (!registry) return undefined
  if (!endpoint) return registry.primary?.auth.provider
  const host = endpoint.host.toLowerCase()
  return registry
    .all()
    .find(
      ({ auth }) =>
        auth.hostname.toLowerCase() === host &&
        (endpoint.port === undefined || auth.port === endpoint.port) &&
        (endpoint.username === undefined || auth.username === endpoint.username),
    )?.auth.provider
}
