import { describe, expect, it } from 'vitest'
import type { SignFn } from './internal-types.js'
import { countingSigner, fakeClock } from './test-support/fake-signer.js'
import { RDS_HOST, STATIC_CREDS, uniqueUser } from './test-support/unique.js'
import { createTokenProvider } from './token-provider.js'

const S = 1000

function setup(extra: object = {}, sign?: (clock: ReturnType<typeof fakeClock>) => SignFn) {
  const clock = fakeClock()
  const signer = countingSigner(clock)
  const provider = createTokenProvider(
    { hostname: RDS_HOST, port: 5432, username: uniqueUser(), credentials: STATIC_CREDS, ...extra },
    { now: clock.now, sign: sign ? sign(clock) : signer.sign },
  )
  return { clock, signer, provider }
}

describe('token expiry', () => {
  it('a token is used until 900 s minus the 60 s default margin, then re-signed in the foreground', async () => {
    const { clock, signer, provider } = setup()
    const token = await provider.getToken()
    clock.advance(839 * S)
    expect(await provider.getToken()).toBe(token)
    clock.advance(1 * S)
    signer.hold() // a background refresh from 839 s may be in flight; the new call must join or sign
    const pending = provider.getToken()
    signer.release()
    const fresh = await pending
    expect(fresh).not.toBe(token)
  })

  it('refreshMarginSeconds moves the end of use', async () => {
    const { clock, signer, provider } = setup({ refreshMarginSeconds: 0 })
    const token = await provider.getToken()
    clock.advance(899 * S)
    expect(await provider.getToken()).toBe(token)
    clock.advance(2 * S)
    const fresh = await provider.getToken()
    expect(fresh).not.toBe(token)
    expect(signer.calls.length).toBeGreaterThanOrEqual(2)
  })

  it('reads the lifetime from the token X-Amz-Date, not from the local clock', async () => {
    // A signer whose clock runs 200 s behind: its tokens are 200 s older than the local clock thinks.
    let n = 0
    const behind = (clock: ReturnType<typeof fakeClock>): SignFn => {
      const lagging = countingSigner({ ...clock, now: () => clock.now() - 200 * S })
      return async (req) => {
        n++
        return lagging.sign(req)
      }
    }
    const { clock, provider } = setup({ refreshMarginSeconds: 0 }, behind)
    const token = await provider.getToken()
    clock.advance(699 * S) // token is 899 s old by its own date
    expect(await provider.getToken()).toBe(token)
    clock.advance(2 * S) // 901 s old: must not be served
    const fresh = await provider.getToken()
    expect(fresh).not.toBe(token)
    expect(n).toBeGreaterThanOrEqual(2)
  })
})
