import { describe, expect, it } from 'vitest'
import { RdsIamError } from './rds-iam-error.js'
import { countingSigner, fakeClock } from './test-support/fake-signer.js'
import { RDS_HOST, STATIC_CREDS, uniqueUser } from './test-support/unique.js'
import { createTokenProvider } from './token-provider.js'

function setup() {
  const clock = fakeClock()
  const signer = countingSigner(clock)
  const username = uniqueUser()
  const make = (extra: object = {}) =>
    createTokenProvider(
      { hostname: RDS_HOST, port: 5432, username, credentials: STATIC_CREDS, ...extra },
      { now: clock.now, sign: signer.sign },
    )
  return { clock, signer, username, make }
}

describe('token cache', () => {
  it('signs once and answers later calls from the cache', async () => {
    const { signer, make } = setup()
    const provider = make()
    const first = await provider.getToken()
    const second = await provider.getToken()
    expect(second).toBe(first)
    expect(signer.calls).toHaveLength(1)
    expect(provider.stats()).toEqual({ signed: 1, hits: 1, inflightJoins: 0, failures: 0 })
  })

  it('shares one entry between providers with the same signing target and credentials', async () => {
    const { signer, make } = setup()
    const a = make()
    const b = make()
    expect(await b.getToken()).toBe(await a.getToken())
    expect(signer.calls).toHaveLength(1)
  })

  it('keeps separate entries for different users, ports and credential sources', async () => {
    const { signer, make } = setup()
    await make().getToken()
    await make({ port: 5433 }).getToken()
    await make({ credentials: { ...STATIC_CREDS } }).getToken()
    expect(signer.calls).toHaveLength(3)
    expect(signer.calls.map((c) => c.port)).toEqual([5432, 5433, 5432])
  })

  it('signs for signingHostname/signingPort and keys the cache by them', async () => {
    const { signer, make } = setup()
    const viaTunnel = make({
      hostname: '127.0.0.1',
      port: 15432,
      signingHostname: RDS_HOST,
      signingPort: 5432,
    })
    const direct = make()
    expect(await viaTunnel.getToken()).toBe(await direct.getToken())
    expect(signer.calls).toHaveLength(1)
    expect(signer.calls[0]).toMatchObject({ hostname: RDS_HOST, port: 5432, region: 'eu-west-1' })
    expect(viaTunnel.target).toMatchObject({
      hostname: RDS_HOST,
      connectHostname: '127.0.0.1',
      connectPort: 15432,
    })
  })

  it('invalidate() drops the token so the next call signs again', async () => {
    const { signer, make } = setup()
    const provider = make()
    const first = await provider.getToken()
    provider.invalidate()
    const second = await provider.getToken()
    expect(second).not.toBe(first)
    expect(signer.calls).toHaveLength(2)
  })

  it('does not cache a signing that started before invalidate()', async () => {
    const { signer, make } = setup()
    const provider = make()
    signer.hold()
    const pending = provider.getToken()
    provider.invalidate()
    signer.release()
    const stale = await pending
    const next = await provider.getToken()
    expect(next).not.toBe(stale)
    expect(signer.calls).toHaveLength(2)
  })

  it('does not cache a failed signing', async () => {
    const { signer, make } = setup()
    const provider = make()
    signer.failWith(new Error('boom'))
    const err = await provider.getToken().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RdsIamError)
    expect((err as RdsIamError).code).toBe('RDS_IAM_SIGNING_FAILED')
    expect((err as RdsIamError).cause).toBeInstanceOf(Error)
    signer.failWith(undefined)
    await expect(provider.getToken()).resolves.toContain('X-Amz-Signature=fake2')
    expect(provider.stats()).toMatchObject({ signed: 1, failures: 1 })
  })

  it('rejects a missing host, port or user with RDS_IAM_INVALID_OPTIONS', () => {
    const bad = [
      { hostname: '', port: 5432, username: 'u' },
      { hostname: RDS_HOST, port: 0, username: 'u' },
      { hostname: RDS_HOST, port: 5432, username: '' },
      { hostname: RDS_HOST, port: 5432, username: 'u', regoin: 'eu-west-1' },
    ]
    for (const opts of bad) {
      expect(() => createTokenProvider(opts as never)).toThrow(
        expect.objectContaining({ code: 'RDS_IAM_INVALID_OPTIONS' }),
      )
    }
  })
})
