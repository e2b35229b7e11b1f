// Counting fake signer and clock for unit tests of the cache (test support only).
import type { SignFn, SignRequest } from '../internal-types.js'

export interface FakeClock {
  now: () => number
  advance(ms: number): void
  set(ms: number): void
}

export function fakeClock(start = Date.UTC(2026, 0, 1, 12, 0, 0)): FakeClock {
  let t = start
  return {
    now: () => t,
    advance(ms) {
      t += ms
    },
    set(ms) {
      t = ms
    },
  }
}

function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
}

export interface CountingSigner {
  sign: SignFn
  readonly calls: SignRequest[]
  /** Makes the next signings fail with this error (until cleared with `undefined`). */
  failWith(err: Error | undefined): void
  /** Holds every signing until `release()` is called. */
  hold(): void
  release(): void
}

/** A signer that dates tokens by the fake clock and counts calls; tokens are unique per call. */
export function countingSigner(clock: FakeClock): CountingSigner {
  const calls: SignRequest[] = []
  let failure: Error | undefined
  let gate: Promise<void> | undefined
  let open: (() => void) | undefined
  return {
    calls,
    failWith(err) {
      failure = err
    },
    hold() {
      gate = new Promise((r) => {
        open = r
      })
    },
    release() {
      open?.()
      gate = undefined
    },
    async sign(req) {
      calls.push(req)
      const n = calls.length
      const date = amzDate(clock.now())
      if (gate) await gate
      if (failure) throw failure
      return `${req.hostname}:${req.port}/?Action=connect&DBUser=${encodeURIComponent(req.username)}&X-Amz-Date=${date}&X-Amz-Signature=fake${n}`
    },
  }
}
