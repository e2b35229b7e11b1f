import { inspect } from 'node:util'
import { describe, expect, it, vi } from 'vitest'
import type { CacheEntry } from './internal-types.js'
import { type SharedRegistry, sharedRegistry } from './shared-registry.js'
import { countingSigner, fakeClock } from './test-support/fake-signer.js'
import { RDS_HOST, STATIC_CREDS, uniqueUser } from './test-support/unique.js'
import { createTokenProvider } from './token-provider.js'

// Security review: the process-wide registry was an enumerable property of globalThis, so
// `util.inspect(globalThis, { depth: 4 })` printed every cached token. It is hidden now, and its
// cache entries (and what an in-flight signing resolves to) print and serialise without the token.

const KEY = Symbol.for('rds-iam.core.v1')

async function cachedToken() {
  const clock = fakeClock()
  const signer = countingSigner(clock)
  const username = uniqueUser()
  const provider = createTokenProvider(
    { hostname: RDS_HOST, port: 5432, username, credentials: STATIC_CREDS },
    { now: clock.now, sign: signer.sign },
  )
  const token = await provider.getToken()
  const entry = [...sharedRegistry().tokens.entries()].find(([k]) => k.includes(username))?.[1]
  if (!entry) throw new Error('no cache entry for the provider')
  return { token, entry, signer, provider, clock }
}

describe('the shared registry does not show cached tokens', () => {
  it('is a non-enumerable property of globalThis, so inspecting globals does not reach it', async () => {
    const { token } = await cachedToken()
    expect(Object.getOwnPropertyDescriptor(globalThis, KEY)).toMatchObject({ enumerable: false })
    expect(Object.getOwnPropertySymbols(globalThis)).toContain(KEY) // still there for other copies
    const dump = inspect(globalThis, { depth: 4 })
    expect(dump).not.toContain(token)
    expect(dump).not.toContain('X-Amz-Signature')
  })

  it('a cache entry prints and serialises without its token, even with hidden properties shown', async () => {
    const { token, entry } = await cachedToken()
    expect(entry.token).toBe(token) // the cache itself still holds it
    for (const text of [
      inspect(entry, { depth: 10, showHidden: true }),
      inspect(sharedRegistry(), { depth: 10, showHidden: true }),
      JSON.stringify(entry),
      JSON.stringify({ entries: [...sharedRegistry().tokens.values()] }),
    ]) {
      expect(text).not.toContain(token)
      expect(text).not.toContain('X-Amz-Signature')
    }
    expect(inspect(entry)).toContain('[redacted]')
    expect(JSON.parse(JSON.stringify(entry))).toMatchObject({ token: '[redacted]', stats: { signed: 1 } })
    // The redaction is not an own enumerable key: copies and comparisons of an entry are unchanged.
    expect(Object.keys(entry)).not.toContain('toJSON')
  })

  it('an in-flight signing does not show its result either', async () => {
    const { token, entry, signer, provider } = await cachedToken()
    provider.invalidate()
    signer.hold()
    const next = provider.getToken()
    await new Promise((r) => setImmediate(r))
    // The entry's promise of the signing outlives it wherever someone kept a reference.
    const flight = entry.inflight
    expect(flight).toBeInstanceOf(Promise)
    signer.release()
    const fresh = await next
    expect(fresh).not.toBe(token)
    await flight
    const shown = inspect(flight, { depth: 10, showHidden: true })
    expect(shown).toContain('[redacted]')
    expect(shown).not.toContain(fresh)
    expect(JSON.stringify(await flight)).not.toContain(fresh)
    expect(inspect(entry, { depth: 10 })).not.toContain(fresh)
  })

  it('one registry for every copy of core; an enumerable one an earlier copy left is kept and hidden', async () => {
    const mine = sharedRegistry()
    vi.resetModules()
    const again = (await import('./shared-registry.js')) as { sharedRegistry: () => SharedRegistry }
    expect(again.sharedRegistry()).toBe(mine)

    // What an earlier copy did: `globalThis[KEY] ??= registry`, a plain enumerable property.
    const holder = globalThis as unknown as Record<symbol, unknown>
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, KEY)
    try {
      Reflect.deleteProperty(globalThis, KEY)
      holder[KEY] = mine
      expect(Object.getOwnPropertyDescriptor(globalThis, KEY)?.enumerable).toBe(true)
      expect(again.sharedRegistry()).toBe(mine)
      expect(Object.getOwnPropertyDescriptor(globalThis, KEY)?.enumerable).toBe(false)
      // ...and that earlier copy's `??=` still finds this one instead of replacing it.
      holder[KEY] ??= { tokens: new Map<string, CacheEntry>() }
      expect(holder[KEY]).toBe(mine)
    } finally {
      if (descriptor) Object.defineProperty(globalThis, KEY, descriptor)
    }
  })
})
