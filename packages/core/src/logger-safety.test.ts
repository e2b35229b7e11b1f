import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AwsCredentials, IamLogger } from './iam-options.js'
import { checkPeerVersion } from './peer-version.js'
import { countingSigner, fakeClock } from './test-support/fake-signer.js'
import { RDS_HOST, STATIC_CREDS, uniqueUser } from './test-support/unique.js'
import { createTokenProvider } from './token-provider.js'

// Security review: a throwing iam.logger crashed the process (an unhandled rejection from a
// `.then` nobody awaits) and turned a signing into a raw TypeError. A logger is a side channel:
// whatever it does, tokens are still handed out and nothing escapes unhandled.

const S = 1000

/** The mistake from the review: methods passed unbound, so `this` is not the logger instance. */
function unboundLogger(): IamLogger {
  class AppLogger {
    prefix = 'app'
    debug(m: string) {
      return `${this.prefix.toUpperCase()} ${m}`
    }
    warn(m: string) {
      return `${this.prefix.toUpperCase()} ${m}`
    }
  }
  const l = new AppLogger()
  return { debug: l.debug, warn: l.warn } as unknown as IamLogger
}

const rejectingLogger = (): IamLogger =>
  ({
    debug: async () => Promise.reject(new Error('log sink down')),
    warn: async () => Promise.reject(new Error('log sink down')),
  }) as unknown as IamLogger

const settle = async () => {
  // Unhandled rejections are reported after the microtask queue drains; two macrotasks are past that.
  await new Promise((r) => setImmediate(r))
  await new Promise((r) => setImmediate(r))
}

describe('a throwing or rejecting iam.logger', () => {
  let unhandled: unknown[]
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  beforeEach(() => {
    unhandled = []
    process.on('unhandledRejection', onUnhandled)
  })
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled)
  })

  it.each([
    ['throws (unbound methods)', unboundLogger],
    ['returns a rejected promise', rejectingLogger],
  ])('%s: a foreground signing still hands out its token, nothing is left unhandled', async (_n, make) => {
    const clock = fakeClock()
    const signer = countingSigner(clock)
    const provider = createTokenProvider(
      { hostname: RDS_HOST, port: 5432, username: uniqueUser(), credentials: STATIC_CREDS, logger: make() },
      { now: clock.now, sign: signer.sign },
    )
    const token = await provider.getToken()
    expect(token).toContain('X-Amz-Date')
    await settle()
    expect(unhandled).toEqual([])
    expect(await provider.getToken()).toBe(token) // and it was cached
    expect(provider.stats()).toMatchObject({ signed: 1, hits: 1, failures: 0 })
  })

  it('the short-credentials warning does not turn the signing into a TypeError', async () => {
    const clock = fakeClock()
    const signer = countingSigner(clock)
    // Credentials ending inside the refresh margin make signOnce warn before it returns.
    const credentials = async (): Promise<AwsCredentials> => ({
      accessKeyId: 'ASIA',
      secretAccessKey: 's',
      sessionToken: 't',
      expiration: new Date(clock.now() + 30 * S),
    })
    const provider = createTokenProvider(
      { hostname: RDS_HOST, port: 5432, username: uniqueUser(), credentials, logger: unboundLogger() },
      { now: clock.now, sign: signer.sign },
    )
    await expect(provider.getToken()).resolves.toContain('X-Amz-Date')
    await settle()
    expect(unhandled).toEqual([])
  })

  it('a failed background refresh whose warning throws does not crash; the token stays in use', async () => {
    const clock = fakeClock()
    const signer = countingSigner(clock)
    const provider = createTokenProvider(
      {
        hostname: RDS_HOST,
        port: 5432,
        username: uniqueUser(),
        credentials: STATIC_CREDS,
        logger: unboundLogger(),
      },
      { now: clock.now, sign: signer.sign },
    )
    const token = await provider.getToken()
    clock.advance(700 * S) // inside the refresh-ahead window
    signer.failWith(new Error('throttled by STS'))
    expect(await provider.getToken()).toBe(token)
    await settle()
    expect(provider.stats().failures).toBe(1)
    expect(unhandled).toEqual([])
    expect(await provider.getToken()).toBe(token)
  })

  it('checkPeerVersion with a throwing logger still reports the version as unsupported', () => {
    const logger = {
      debug() {
        throw new Error('no')
      },
      warn() {
        throw new Error('no')
      },
    }
    expect(checkPeerVersion('pg', '7.0.0', '>=8.11.0 <9', logger)).toBe(false)
  })
})
