import { afterEach, describe, expect, it, vi } from 'vitest'
import { retryDelayMs, withAuthRetry } from './auth-retry.js'
import { countingSigner, fakeClock } from './test-support/fake-signer.js'
import { RDS_HOST, STATIC_CREDS, uniqueUser } from './test-support/unique.js'
import { createTokenProvider } from './token-provider.js'

// Issue 8, item 15: the first retry after an auth failure goes out at once (the usual cause is a
// token that aged out in flight; re-signing costs well under a millisecond); backoff starts
// from the second retry.

const pam = () => Object.assign(new Error('PAM authentication failed for user "app"'), { code: '28000' })

describe('retry backoff', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('retryDelayMs: 0 for the first retry, then full jitter under base·2^(n-2), capped', () => {
    const top = () => 0.999_999
    expect(retryDelayMs(1, 100, 2000, top)).toBe(0)
    expect(retryDelayMs(2, 100, 2000, top)).toBe(99)
    expect(retryDelayMs(3, 100, 2000, top)).toBe(199)
    expect(retryDelayMs(4, 100, 2000, top)).toBe(399)
    expect(retryDelayMs(10, 100, 2000, top)).toBe(1999)
    expect(retryDelayMs(2, 100, 2000, () => 0)).toBe(0)
  })

  it('withAuthRetry starts attempt 2 with no timer pending, and waits on a timer before attempt 3', async () => {
    vi.useFakeTimers()
    const clock = fakeClock()
    const provider = createTokenProvider(
      { hostname: RDS_HOST, port: 5432, username: uniqueUser(), credentials: STATIC_CREDS },
      { now: clock.now, sign: countingSigner(clock).sign },
    )
    const attempts: number[] = []
    let timersWhenAttemptStarted: number[] = []
    const run = withAuthRetry(
      async (n) => {
        attempts.push(n)
        timersWhenAttemptStarted.push(vi.getTimerCount())
        if (n < 3) throw pam()
        return 'connected'
      },
      provider,
      // A base this large would make a backoff before the first retry obvious.
      { maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 },
    )
    // Microtasks only, no clock: the first retry must already have happened.
    for (let i = 0; i < 20; i++) await Promise.resolve()
    expect(attempts).toEqual([1, 2])
    expect(timersWhenAttemptStarted).toEqual([0, 0])
    // The second failure armed a backoff timer; attempt 3 waits for it.
    expect(vi.getTimerCount()).toBe(1)
    timersWhenAttemptStarted = []
    await vi.runAllTimersAsync()
    await expect(run).resolves.toBe('connected')
    expect(attempts).toEqual([1, 2, 3])
  })
})
