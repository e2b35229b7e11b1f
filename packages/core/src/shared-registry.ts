import type { CredentialSource } from './credential-source.js'
import type { AwsCredentials } from './iam-options.js'
import type { CacheEntry } from './internal-types.js'
import type { TokenBucket } from './rate-limit.js'

/**
 * Process-wide state of `@rds-iam/core`. It lives on `globalThis` under a versioned
 * `Symbol.for` key, so the ESM and CommonJS builds of core (or two installed copies of the same
 * major version) loaded in one process share one token cache, one limiter per endpoint and one
 * set of credential sources, instead of signing twice and letting twice the connection rate through.
 * Bump the version when this shape changes incompatibly.
 * @internal
 */
export interface SharedRegistry {
  /** Token cache entries by signing host, port, user, region and credential source. */
  readonly tokens: Map<string, CacheEntry>
  /** One new-connection limiter per endpoint. */
  readonly buckets: Map<string, TokenBucket>
  /** Credential sources of user-supplied credentials and functions, by object identity. */
  readonly sourcesByIdentity: WeakMap<object, CredentialSource>
  /** `fromIni` sources by profile name. */
  readonly sourcesByProfile: Map<string, CredentialSource>
  /** Redacted copies of static credentials (same input → same copy → same cache entry). */
  readonly redacted: WeakMap<object, AwsCredentials>
  /** The default provider chain, built once. */
  defaultChain: CredentialSource | undefined
  /** Source ids must be unique across copies, or two copies would share a cache entry wrongly. */
  nextSourceId: number
}

const KEY = Symbol.for('rds-iam.core.v1')

/**
 * The one registry of this process, created by whichever copy of core asks first.
 *
 * It is a non-enumerable property of `globalThis`: the token cache is reachable from it, and an
 * enumerable one showed up in `util.inspect(globalThis)` and in anything that walks globals (error
 * reporters, REPL completions). Copies share it by key, which enumerability does not affect. An
 * enumerable one left by an earlier copy is kept (same object, same cache) and hidden.
 * @internal
 */
export function sharedRegistry(): SharedRegistry {
  const holder = globalThis as typeof globalThis & { [KEY]?: SharedRegistry }
  const found = holder[KEY]
  if (found !== undefined) {
    const own = Object.getOwnPropertyDescriptor(holder, KEY)
    if (own?.enumerable === true && own.configurable === true) hide(holder, found)
    return found
  }
  const created: SharedRegistry = {
    tokens: new Map(),
    buckets: new Map(),
    sourcesByIdentity: new WeakMap(),
    sourcesByProfile: new Map(),
    redacted: new WeakMap(),
    defaultChain: undefined,
    nextSourceId: 1,
  }
  hide(holder, created)
  return created
}

function hide(holder: object, registry: SharedRegistry): void {
  // Not writable, so an earlier copy's `globalThis[KEY] ??= …` keeps finding this one; configurable,
  // so a later copy can still take it over the way this one takes over an enumerable one.
  Object.defineProperty(holder, KEY, {
    value: registry,
    enumerable: false,
    writable: false,
    configurable: true,
  })
}
