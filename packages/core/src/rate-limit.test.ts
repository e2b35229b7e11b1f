import { describe, expect, it } from 'vitest'
import {
  type BucketClock,
  DEFAULT_MAX_NEW_CONNECTIONS_PER_SECOND,
  TokenBucket,
  throttleNewConnection,
} from './rate-limit.js'

/** A manual clock: timers run only when the test advances time. */
function manualClock() {
  let t = 0
  const timers: { at: number; fn: () => void }[] = []
  const clock: BucketClock = {
    now: () => t,
    setTimeout(fn, ms) {
      timers.push({ at: t + ms, fn })
      return undefined
    },
  }
  return {
    clock,
    async advance(ms: number) {
      const end = t + ms
      for (;;) {
        timers.sort((a, b) => a.at - b.at)
        const next = timers[0]
        if (!next || next.at > end) break
        timers.shift()
        t = next.at
        next.fn()
        await Promise.resolve()
      }
      t = end
      await new Promise((r) => setImmediate(r))
    },
  }
}

function track(bucket: TokenBucket, n: number) {
  let done = 0
  for (let i = 0; i < n; i++) void bucket.take().then(() => done++)
  return () => done
}

describe('TokenBucket', () => {
  it('lets a burst of perSecond through, then perSecond per second, in order', async () => {
    const m = manualClock()
    const bucket = new TokenBucket(10, m.clock)
    const done = track(bucket, 25)
    await m.advance(0)
    expect(done()).toBe(10)
    await m.advance(500)
    expect(done()).toBe(15)
    await m.advance(500)
    expect(done()).toBe(20)
    await m.advance(1000)
    expect(done()).toBe(25)
    expect(bucket.waiting).toBe(0)
  })

  it('a rate below 1/s still lets connections through', async () => {
    const m = manualClock()
    const bucket = new TokenBucket(0.5, m.clock)
    const done = track(bucket, 2)
    await m.advance(0)
    expect(done()).toBe(1)
    await m.advance(2000)
    expect(done()).toBe(2)
  })
})

describe('throttleNewConnection', () => {
  it('0 and Infinity turn it off', async () => {
    const key = `off-${Math.random()}`
    let admitted = 0
    for (const rate of [0, Number.POSITIVE_INFINITY]) {
      for (let i = 0; i < 1000; i++) void throttleNewConnection(key, rate).then(() => admitted++)
    }
    // No bucket, no timer: every call is admitted within the same turn of the event loop.
    await new Promise((r) => setImmediate(r))
    expect(admitted).toBe(2000)
  })

  // Security review: two pools with different rates for one endpoint used to replace each other's
  // bucket, and every new bucket started full, so alternating 10/s and 11/s let 200 logins through at once.
  it('different rates for one endpoint share one bucket; the lowest wins and nothing refills it', async () => {
    const m = manualClock()
    const key = `mixed-${Math.random()}`
    let admitted = 0
    for (let i = 0; i < 100; i++) {
      void throttleNewConnection(key, 10, m.clock).then(() => admitted++)
      void throttleNewConnection(key, 11, m.clock).then(() => admitted++)
    }
    await m.advance(0)
    expect(admitted).toBe(10) // one burst, of the lowest rate
    await m.advance(1000)
    expect(admitted).toBe(20)
    await m.advance(1000)
    expect(admitted).toBe(30)
  })

  it('a lower rate set later lowers the bucket in place, without a new burst', async () => {
    const m = manualClock()
    const key = `lower-${Math.random()}`
    let admitted = 0
    for (let i = 0; i < 11; i++) void throttleNewConnection(key, 11, m.clock).then(() => admitted++)
    await m.advance(0)
    expect(admitted).toBe(11) // the 11/s burst is spent
    for (let i = 0; i < 10; i++) void throttleNewConnection(key, 10, m.clock).then(() => admitted++)
    for (let i = 0; i < 10; i++) void throttleNewConnection(key, 100, m.clock).then(() => admitted++)
    await m.advance(0)
    expect(admitted).toBe(11) // neither the lower nor the higher setting brought fresh permits
    await m.advance(1000)
    expect(admitted).toBe(21) // 10/s from now on, for every caller, the 100/s one included
    await m.advance(1000)
    expect(admitted).toBe(31)
  })

  it('defaults to the documented rate and admits a burst of that size at once', async () => {
    expect(DEFAULT_MAX_NEW_CONNECTIONS_PER_SECOND).toBeLessThan(200)
    const key = `default-${Math.random()}`
    let admitted = 0
    const all = Array.from({ length: DEFAULT_MAX_NEW_CONNECTIONS_PER_SECOND }, () =>
      throttleNewConnection(key, undefined).then(() => admitted++),
    )
    await Promise.all(all)
    expect(admitted).toBe(DEFAULT_MAX_NEW_CONNECTIONS_PER_SECOND)
  })
})
