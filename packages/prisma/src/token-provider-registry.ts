import type { TokenProvider } from '@rds-iam/core'
import type { ProviderHolder } from './internal-types.js'

const holders = new WeakMap<object, ProviderHolder>()

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
