import type { SqlAdapterLike } from './internal-types.js'
import { prepareForPrisma } from './prisma-errors.js'

const WRAPPED = ['queryRaw', 'executeRaw', 'startTransaction', 'executeScript'] as const

/**
 * Makes an adapter's failures carry what Prisma keeps of an `RdsIamError` (see `prepareForPrisma`)
 * and runs `onDispose` after the adapter's own `dispose()`. The adapter is changed in place: Prisma
 * checks nothing but these methods, and a wrapper object would hide the adapter's own fields.
 */
export function wrapAdapter<A extends SqlAdapterLike>(adapter: A, onDispose: () => Promise<void>): A {
  for (const name of WRAPPED) {
    const original = adapter[name] as ((...args: unknown[]) => Promise<unknown>) | undefined
    if (typeof original !== 'function') continue
    Object.defineProperty(adapter, name, {
      configurable: true,
      writable: true,
      value: (...args: unknown[]) =>
        original.apply(adapter, args).catch((err: unknown) => {
          throw prepareForPrisma(err)
        }),
    })
  }
  const dispose = adapter.dispose.bind(adapter)
  Object.defineProperty(adapter, 'dispose', {
    configurable: true,
    writable: true,
    value: async () => {
      try {
        await dispose()
      } finally {
        await onDispose()
      }
    },
  })
  return adapter
}
