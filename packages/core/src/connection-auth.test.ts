import { describe, expect, it, vi } from 'vitest'
import { createConnectionAuth } from './connection-auth.js'
import { RdsIamError } from './rds-iam-error.js'
import { sharedRegistry } from './shared-registry.js'
import { RDS_HOST, STATIC_CREDS, uniqueUser } from './test-support/unique.js'
import { verifyRdsToken } from './test-support/verify-sigv4.js'

const context = { defaultPort: 5432, urlOption: 'connectionString' }
const iam = { credentials: STATIC_CREDS }

function refusal(make: () => unknown): RdsIamError {
  try {
    make()
  } catch (err) {
    expect(err).toBeInstanceOf(RdsIamError)
    return err as RdsIamError
  }
  throw new Error('expected RDS_IAM_INVALID_OPTIONS')
}

describe('createConnectionAuth: a driver config checked before any network traffic', () => {
  it.each([
    [
      'a password next to iam',
      { host: RDS_HOST, user: 'app', password: 'secret' },
      /password.*connectionString/s,
    ],
    [
      'a password function next to iam',
      { host: RDS_HOST, user: 'app', password: async () => 'x' },
      /password/,
    ],
    ['no host', { user: 'app' }, /host.*connectionString/s],
    ['a Unix socket host', { host: '/var/run/postgresql', user: 'app' }, /Unix socket/],
    ['a port that is not a number', { host: RDS_HOST, user: 'app', port: 'abc' }, /port.*5432/s],
    ['a port out of range', { host: RDS_HOST, user: 'app', port: 70000 }, /port/],
    ['no user', { host: RDS_HOST }, /user/],
  ])('%s → RDS_IAM_INVALID_OPTIONS naming the fix', (_name, input, mentions) => {
    const err = refusal(() =>
      createConnectionAuth({ port: undefined, user: undefined, ...input, iam } as never, context),
    )
    expect(err.code).toBe('RDS_IAM_INVALID_OPTIONS')
    expect(`${err.message} ${err.hint}`).toMatch(mentions)
  })

  it('uses the driver default port and accepts a numeric port string, as drivers do', () => {
    const user = uniqueUser()
    expect(createConnectionAuth({ host: RDS_HOST, port: undefined, user, iam }, context).port).toBe(5432)
    expect(createConnectionAuth({ host: RDS_HOST, port: ' 6432 ', user, iam }, context).port).toBe(6432)
  })

  it('hands every new connection a verified token for the endpoint, from one signing', async () => {
    const user = uniqueUser()
    const auth = createConnectionAuth({ host: RDS_HOST, port: 5432, user, iam }, context)
    const tokens = await Promise.all([auth.nextToken(), auth.nextToken(), auth.nextToken()])
    expect(new Set(tokens).size).toBe(1)
    const verdict = verifyRdsToken(tokens[0]!, {
      secretAccessKey: STATIC_CREDS.secretAccessKey,
      endpoint: `${RDS_HOST}:5432`,
      region: 'eu-west-1',
      user,
    })
    expect(verdict).toMatchObject({ ok: true })
    expect(auth.provider.stats().signed).toBe(1)
  })
})

describe('ConnectionAuth.prepare(): the limiter permit and the token before the socket opens', () => {
  // A host of its own per test: its own limiter bucket in the process-wide registry.
  const ownHost = () => `db-${uniqueUser('h')}.abcdefghijkl.eu-west-1.rds.amazonaws.com`
  const waitingAt = (host: string) => sharedRegistry().buckets.get(`${host}:5432`)?.waiting ?? 0
  const settle = () => new Promise((resolve) => setImmediate(resolve))

  it('banks its permit: the next nextToken() does not queue at the limiter, the one after does', async () => {
    const host = ownHost()
    const auth = createConnectionAuth(
      { host, port: 5432, user: uniqueUser(), iam: { ...iam, maxNewConnectionsPerSecond: 1 } },
      context,
    )
    await auth.prepare()
    expect(auth.provider.stats().signed).toBe(1) // the token is warm before any socket exists
    const first = auth.nextToken()
    await settle()
    expect(waitingAt(host)).toBe(0)
    await first
    void auth.nextToken() // no banked permit left: waits for the next second's permit
    await settle()
    expect(waitingAt(host)).toBe(1)
  })

  it('a banked permit expires after ~1 s, so an idle pool cannot save up a burst', async () => {
    vi.useFakeTimers({ toFake: ['performance', 'setTimeout', 'setImmediate'] })
    try {
      const host = ownHost()
      const auth = createConnectionAuth(
        { host, port: 5432, user: uniqueUser(), iam: { ...iam, maxNewConnectionsPerSecond: 1 } },
        context,
      )
      await auth.prepare() // takes the bucket's only permit and banks it
      vi.advanceTimersByTime(1500) // the bucket refills one permit; the banked one expires
      await auth.nextToken() // the expired permit is not used: this takes the refilled one
      void auth.nextToken()
      await Promise.resolve()
      // Had the expired permit counted, this second connection would not queue.
      expect(waitingAt(host)).toBe(1)
    } finally {
      vi.useRealTimers()
    }
  })

  it('a prepare() whose token fails banks nothing and rejects with the typed error', async () => {
    const host = ownHost()
    const auth = createConnectionAuth(
      {
        host,
        port: 5432,
        user: uniqueUser(),
        iam: {
          credentials: async () => {
            throw new Error('no instance profile')
          },
          maxNewConnectionsPerSecond: 1,
        },
      },
      context,
    )
    await expect(auth.prepare()).rejects.toMatchObject({ code: 'RDS_IAM_CREDENTIALS' })
    void auth.nextToken().catch(() => {})
    await settle()
    expect(waitingAt(host)).toBe(1)
  })

  it('names the engine in the provider target, so hints can name only its commands', () => {
    const auth = createConnectionAuth(
      { host: RDS_HOST, port: 5432, user: uniqueUser(), iam },
      { ...context, engine: 'postgres' },
    )
    expect(auth.provider.target?.engine).toBe('postgres')
  })
})
