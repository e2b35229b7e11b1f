import { describe, expect, it, vi } from 'vitest'
import { RdsIamError } from './rds-iam-error.js'
import { countingSigner, fakeClock } from './test-support/fake-signer.js'
import { RDS_HOST, STATIC_CREDS, uniqueUser } from './test-support/unique.js'
import { createTokenProvider } from './token-provider.js'

const S = 1000

function setup() {
  const clock = fakeClock()
  const signer = countingSigner(clock)
  const logger = { debug: vi.fn(), warn: vi.fn() }
  const provider = createTokenProvider(
    { hostname: RDS_HOST, port: 5432, username: uniqueUser(), credentials: STATIC_CREDS, logger },
    { now: clock.now, sign: signer.sign },
  )
  return { clock, signer, provider, logger }
}

// Lets the background refresh (a few awaits deep) settle.
const settle = () => new Promise((r) => setImmediate(r))

describe('refresh-ahead', () => {
  it('does not refresh before 2/3 of the token life', async () => {
    const { clock, signer, provider } = setup()
    const token = await provider.getToken()
    clock.advance(599 * S)
    expect(await provider.getToken()).toBe(token)
    await settle()
    expect(signer.calls).toHaveLength(1)
  })

  it('inside the window returns the cached token and starts exactly one background refresh', async () => {
    const { clock, signer, provider } = setup()
    const token = await provider.getToken()
    clock.advance(601 * S)
    signer.hold()
    const during = await Promise.all(Array.from({ length: 50 }, () => provider.getToken()))
    expect(during.every((t) => t === token)).toBe(true)
    await settle()
    expect(signer.calls).toHaveLength(2)
    signer.release()
    await settle()
    const after = await provider.getToken()
    expect(after).not.toBe(token)
    expect(provider.stats()).toMatchObject({ signed: 2, failures: 0 })
  })

  it('a failed background refresh is counted and logged without the token; the token stays until it expires', async () => {
    const { clock, signer, provider, logger } = setup()
    const token = await provider.getToken()
    clock.advance(700 * S)
    signer.failWith(new Error('throttled by STS'))
    expect(await provider.getToken()).toBe(token)
    await settle()
    expect(provider.stats().failures).toBe(1)
    expect(logger.warn).toHaveBeenCalledTimes(1)
    const line = String(logger.warn.mock.calls[0]?.[0])
    expect(line).toContain('RDS_IAM_SIGNING_FAILED')
    expect(line).not.toContain(token)
    expect(line).not.toContain('X-Amz-Signature')
    // Right after a failure, hits do not start another refresh (no storm, no log flood).
    const callsAfterFailure = signer.calls.length
    await Promise.all(Array.from({ length: 100 }, () => provider.getToken()))
    await settle()
    expect(signer.calls.length).toBe(callsAfterFailure)
    expect(logger.warn).toHaveBeenCalledTimes(1)
    clock.advance(130 * S) // 830 s: still inside the 840 s usable life
    expect(await provider.getToken()).toBe(token)
    await settle()
    clock.advance(20 * S) // 850 s: past the margin, a foreground signing is needed and fails
    const err = await provider.getToken().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RdsIamError)
    expect((err as RdsIamError).code).toBe('RDS_IAM_SIGNING_FAILED')
  })
})
