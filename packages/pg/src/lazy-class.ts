import type { PgModuleLike } from './internal-types.js'
import { loadPg } from './pg-module.js'

/**
 * A constructor standing in for a class built on the application's pg, which is only loaded on
 * first use: `new` builds an instance of the real subclass, and `instanceof` asks that subclass.
 */
export function lazyPgClass<C extends new (config: never) => object>(
  name: string,
  classFor: (pg: PgModuleLike) => C,
): C {
  const facade = function (config: never) {
    if (!new.target) throw new TypeError(`Class constructor ${name} cannot be invoked without 'new'`)
    return new (classFor(loadPg()))(config)
  } as unknown as C
  Object.defineProperty(facade, 'name', { value: name })
  Object.defineProperty(facade, Symbol.hasInstance, {
    value: (value: unknown) => {
      try {
        return value instanceof classFor(loadPg())
      } catch {
        return false
      }
    },
  })
  return facade
}
