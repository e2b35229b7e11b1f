import { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createAuthGate } from './auth-gate.js'
import type { LoginAttempt } from './internal-types.js'
import type { TokenVerification } from './token-verifier.js'

/** A verifier fake: accepts the password 'good', records the options it was called with. */
function fakeVerifier() {
  const calls: { password: string; user: string; maxTokenAgeSeconds: number | null | undefined }[] = []
  return {
    calls,
    verify(
      password: string,
      user: string,
      options: { maxTokenAgeSeconds?: number | null } = {},
    ): TokenVerification {
      calls.push({ password, user, maxTokenAgeSeconds: options.maxTokenAgeSeconds })
      return password === 'good'
        ? { ok: true, accessKeyId: 'AKIATEST' }
        : { ok: false, reason: 'InvalidToken', detail: 'signature does not match' }
    },
  }
}

const attempt = (password: string): LoginAttempt => ({
  engine: 'postgres',
  user: 'app_user',
  database: 'test',
  password,
  remoteAddress: '127.0.0.1',
})

describe('auth gate', () => {
  it('counts verdicts by reason and logs them without the password', async () => {
    const lines: string[] = []
    const gate = createAuthGate({ verifier: fakeVerifier(), log: (l) => lines.push(l) })
    expect(await gate.authorize(attempt('good'))).toEqual({ ok: true })
    expect(await gate.authorize(attempt('secret-looking-token'))).toEqual({
      ok: false,
      reason: 'InvalidToken',
    })
    expect(gate.stats()).toMatchObject({
      accepted: 1,
      rejected: { InvalidToken: 1 },
      open: 0,
      protocolErrors: 0,
    })
    expect(lines).toHaveLength(2)
    expect(lines[1]).toContain('InvalidToken (signature does not match)')
    expect(lines.join('\n')).not.toContain('secret-looking-token')
  })

  it('rejectNext(n) refuses n logins without consulting the verifier, then verifies again', async () => {
    const verifier = fakeVerifier()
    const gate = createAuthGate({ verifier })
    gate.faults.rejectNext(2)
    expect(await gate.authorize(attempt('good'))).toEqual({ ok: false, reason: 'InvalidToken' })
    expect(await gate.authorize(attempt('good'))).toEqual({ ok: false, reason: 'InvalidToken' })
    expect(await gate.authorize(attempt('good'))).toEqual({ ok: true })
    expect(verifier.calls).toHaveLength(1)
  })

  it('passes maxTokenAge to the verifier until reset', async () => {
    const verifier = fakeVerifier()
    const gate = createAuthGate({ verifier })
    gate.faults.maxTokenAge(30)
    await gate.authorize(attempt('good'))
    gate.faults.reset()
    await gate.authorize(attempt('good'))
    expect(verifier.calls.map((c) => c.maxTokenAgeSeconds)).toEqual([30, null])
  })

  it('throttle(n) allows n logins per sliding second, then ThrottlingException', async () => {
    let now = 1_000_000
    const gate = createAuthGate({ verifier: fakeVerifier(), now: () => now })
    gate.faults.throttle(2)
    const verdicts = []
    for (let i = 0; i < 3; i++) verdicts.push(await gate.authorize(attempt('good')))
    expect(verdicts).toEqual([{ ok: true }, { ok: true }, { ok: false, reason: 'ThrottlingException' }])
    now += 1_000
    expect(await gate.authorize(attempt('good'))).toEqual({ ok: true })
    gate.faults.throttle(null)
    for (let i = 0; i < 5; i++) expect(await gate.authorize(attempt('good'))).toEqual({ ok: true })
    expect(gate.stats().rejected.ThrottlingException).toBe(1)
  })

  it('rejects nonsense fault values with a TypeError naming the fault', () => {
    const gate = createAuthGate({ verifier: fakeVerifier() })
    expect(() => gate.faults.rejectNext(-1)).toThrow(/rejectNext/)
    expect(() => gate.faults.latency(Number.NaN)).toThrow(/latency/)
    expect(() => gate.faults.throttle(Number.POSITIVE_INFINITY)).toThrow(/throttle/)
  })

  it('tracks client/upstream pairs: either closing closes the other; dropConnections closes all', async () => {
    const gate = createAuthGate({ verifier: fakeVerifier() })
    const pair = () => [new Socket(), new Socket()] as const
    const [c1, u1] = pair()
    const [c2, u2] = pair()
    const [c3, u3] = pair()
    gate.track(c1, u1)
    gate.track(c2, u2)
    gate.track(c2, u2)
    gate.track(c3, u3)
    expect(gate.stats().open).toBe(3)
    // The upstream going away ends the client after a flush (its last packets still reach it).
    u1.destroy()
    await new Promise((r) => setImmediate(r))
    await new Promise((r) => setImmediate(r))
    expect(c1.writableEnded).toBe(true)
    c1.destroy()
    // The client going away destroys its upstream.
    c3.destroy()
    await new Promise((r) => setImmediate(r))
    await new Promise((r) => setImmediate(r))
    expect(u3.destroyed).toBe(true)
    expect(gate.stats().open).toBe(1)
    gate.faults.dropConnections()
    expect([c2.destroyed, u2.destroyed]).toEqual([true, true])
    await new Promise((r) => setImmediate(r))
    expect(gate.stats().open).toBe(0)
  })

  it('survives a throwing logger', async () => {
    const gate = createAuthGate({
      verifier: fakeVerifier(),
      log: () => {
        throw new Error('log sink down')
      },
    })
    expect(await gate.authorize(attempt('good'))).toEqual({ ok: true })
    gate.protocolError('garbage')
    expect(gate.stats().protocolErrors).toBe(1)
  })
})
