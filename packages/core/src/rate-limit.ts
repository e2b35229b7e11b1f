import { sharedRegistry } from './shared-registry.js'

/** RDS guidance is fewer than ~200 new IAM connections per second per instance; half leaves headroom for other clients. */
export const DEFAULT_MAX_NEW_CONNECTIONS_PER_SECOND = 100

/** Timer seam so the bucket can be driven by a fake clock in tests. */
export interface BucketClock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
}

const realClock: BucketClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
}

/**
 * A FIFO token bucket: `perSecond` tokens refill per second, burst up to `perSecond`.
 * `take()` resolves when a token is available; it never rejects.
 * @internal
 */
export class TokenBucket {
  private tokens: number
  private last: number
  private rate: number
  private readonly queue: (() => void)[] = []
  private timerArmed = false
  // Below 1/s the bucket must still hold one whole token, or nothing would ever pass.
  private get capacity(): number {
    return Math.max(1, this.rate)
  }

  constructor(
    perSecond: number,
    private readonly clock: BucketClock = realClock,
  ) {
    this.rate = perSecond
    this.tokens = this.capacity
    this.last = clock.now()
  }

  get perSecond(): number {
    return this.rate
  }

  /**
   * Lowers the rate; a higher one is ignored. The permits left stay (capped at the new burst), so
   * a new setting never hands out a fresh burst.
   */
  lowerTo(perSecond: number): void {
    if (!(perSecond < this.rate)) return
    this.refill() // the time so far earned permits at the old rate
    this.rate = perSecond
    this.tokens = Math.min(this.tokens, this.capacity)
  }

  take(): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push(resolve)
      this.drain()
    })
  }

  get waiting(): number {
    return this.queue.length
  }

  private refill(): void {
    const t = this.clock.now()
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) * this.rate) / 1000)
    this.last = t
  }

  private drain(): void {
    this.refill()
    while (this.queue.length > 0 && this.tokens >= 1) {
      this.tokens -= 1
      this.queue.shift()!()
    }
    if (this.queue.length > 0 && !this.timerArmed) {
      this.timerArmed = true
      const wait = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.rate))
      this.clock.setTimeout(() => {
        this.timerArmed = false
        this.drain()
      }, wait)
    }
  }
}

/**
 * Waits until a new connection to `endpointKey` (e.g. `host:port`) may start. One bucket per
 * endpoint for the whole process (shared by every copy of core loaded in it), so every pool in it
 * shares the budget. Queues, never fails.
 * `undefined` → 100/s; `0` or `Infinity` → no limit (for that caller).
 *
 * When pools configure different rates for one endpoint, the lowest wins: the bucket is lowered in
 * place, never replaced. Replacing it (the latest setting winning) handed out a fresh full burst on
 * every switch, so two pools at 10/s and 11/s alternating let 200 logins through in a millisecond.
 *
 * `clock` is a testing seam.
 *
 * @example
 * ```ts
 * await throttleNewConnection(`${host}:${port}`, iam.maxNewConnectionsPerSecond)
 * ```
 */
export function throttleNewConnection(
  endpointKey: string,
  perSecond: number | undefined,
  clock: BucketClock = realClock,
): Promise<void> {
  const rate = perSecond ?? DEFAULT_MAX_NEW_CONNECTIONS_PER_SECOND
  if (!(rate > 0) || !Number.isFinite(rate)) return Promise.resolve()
  const { buckets } = sharedRegistry()
  let bucket = buckets.get(endpointKey)
  if (!bucket) {
    bucket = new TokenBucket(rate, clock)
    buckets.set(endpointKey, bucket)
  } else if (rate < bucket.perSecond && typeof bucket.lowerTo === 'function') {
    // A bucket made by an older copy of core has no lowerTo; it keeps its rate rather than being
    // replaced by a full one.
    bucket.lowerTo(rate)
  }
  return bucket.take()
}
