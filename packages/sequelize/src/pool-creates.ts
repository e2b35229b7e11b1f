/**
 * The parts of sequelize-pool 7's `Pool` read here: its public counters and the one method that
 * starts creates. `size` counts connections plus the creates still in flight.
 */
interface SequelizePoolLike {
  readonly size: number
  readonly available: number
  readonly using: number
  readonly waiting: number
  _dispense?: (this: SequelizePoolLike) => unknown
}

const bounded = new WeakSet<object>()

/**
 * Keeps a Sequelize pool from starting a create that no waiting caller needs.
 *
 * sequelize-pool hands a failed create's error to the first waiter, then calls `_dispense` again,
 * which starts a new create whenever the pool has room, even when the creates still in flight
 * already cover every remaining waiter. Each of those creates runs the whole retry policy, so while
 * logins are refused a burst of N callers made up to 2N - 1 creates: up to twice `maxAttempts`
 * logins per caller (72 logins for 10 callers × 4 attempts in the reliability suite), and twice the
 * logins in a throttled storm. With this bound every create stands for one waiting caller, so a
 * caller costs at most `maxAttempts` logins and each given-up error settles exactly one caller.
 * Creates are only ever started for waiters: a connection that becomes available still goes to
 * the next waiter at once, and `min` connections are made as before (`_ensureMinimum`).
 *
 * @example
 * ```ts
 * boundCreatesToWaiters(sequelize.connectionManager.pool)
 * ```
 */
export function boundCreatesToWaiters(pool: unknown): void {
  for (const one of poolsOf(pool)) {
    const original = one._dispense
    if (typeof original !== 'function' || bounded.has(one)) continue
    bounded.add(one)
    one._dispense = function dispense(this: SequelizePoolLike) {
      const creating = this.size - this.available - this.using
      if (this.available === 0 && creating >= this.waiting) return undefined
      return original.call(this)
    }
  }
}

/** The pool itself, or, with `replication`, Sequelize's `{ read, write }` pair of pools. */
function poolsOf(pool: unknown): SequelizePoolLike[] {
  if (!pool || typeof pool !== 'object') return []
  const { read, write } = pool as { read?: unknown; write?: unknown }
  if (read || write) return [read, write].flatMap(poolsOf)
  return isPool(pool) ? [pool] : []
}

function isPool(value: object): value is SequelizePoolLike {
  const p = value as Partial<SequelizePoolLike>
  return (
    typeof p._dispense === 'function' &&
    typeof p.size === 'number' &&
    typeof p.available === 'number' &&
    typeof p.using === 'number' &&
    typeof p.waiting === 'number'
  )
}
