import type { TokenProvider } from '@rds-iam/core'
import type { ProviderHolder } from './internal-types.js'

// On globalThis, so an adapter made by the CommonJS build is known to the ESM build and back.
const REGISTRY = Symbol.for('rds-iam.prisma.providers.v1')
const registry = globalThis as unknown as Record<symbol, WeakMap<object, ProviderHolder> | undefined>
registry[REGISTRY] ??= new WeakMap<object, ProviderHolder>()
const holders = registry[REGISTRY]

/** @internal Remembers which provider serves an adapter factory. */
export function rememberHolder(target: object, holder: ProviderHolder): void {
  holders.set(target, holder)
}

/**
 * The token provider behind a {@link PrismaPgIam} or {@link PrismaMariaDbIam} adapter: read
 * `stats()` for metrics, or `invalidate()` it after an out-of-band failure.
 *
 * @example
 * ```ts
 * const adapter = new PrismaPgIam({ host, user: 'app', database: 'app', iam: true })
 * const prisma = new PrismaClient({ adapter })
 * console.log(getTokenProvider(adapter)?.stats()) // { signed, hits, inflightJoins, failures }
 * ```
 */
export function getTokenProvider(adapter: object): TokenProvider | undefined {
  return holders.get(adapter)?.tokenProvider()
}
