import { inspect } from 'node:util'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, EmulatorOptionsError, startEmulator } from '../src/index.js'
import { clientConfig, connectError, PG_URL, requirePostgres, signToken } from './fixtures/pg-env.js'

const pgReachable = await requirePostgres(PG_URL)

describe('startEmulator input and secrets', () => {
  it('rejects a bad engine, upstream or credential with a TypeError naming the fix', async () => {
    await expect(startEmulator({ engine: 'oracle' as 'postgres' })).rejects.toThrow(
      /engine must be 'postgres', 'mysql' or 'dsql'/,
    )
    await expect(
      startEmulator({ engine: 'postgres', upstream: 'mysql://root@127.0.0.1/test' }),
    ).rejects.toThrow(/must start with postgres:\/\//)
    await expect(startEmulator({ engine: 'mysql', upstream: 'not a url' })).rejects.toThrow(/not a URL/)
    await expect(startEmulator({ engine: 'postgres', credentials: [] })).rejects.toThrow(/must not be empty/)
  })

  // Each of these used to start: 'abc' skew accepted a token dated a day ahead (NaN compares
  // false), a negative one refused every token, a string expiration threw inside every login
  // ("Connection terminated unexpectedly"), a port-less endpoint failed every login as PAM.
  const key = { accessKeyId: 'AKIAOPTIONSTEST00001', secretAccessKey: 's' }
  it.each([
    [{ skewSeconds: 'abc' }, 'skewSeconds', /skewSeconds must be a finite number of seconds >= 0.*"abc"/],
    [{ skewSeconds: -1000 }, 'skewSeconds', /skewSeconds must be a finite number/],
    [{ skewSeconds: Number.NaN }, 'skewSeconds', /got NaN/],
    [{ skewSeconds: Number.POSITIVE_INFINITY }, 'skewSeconds', /got Infinity/],
    [
      { handshakeTimeoutMs: 0 },
      'handshakeTimeoutMs',
      /handshakeTimeoutMs must be a finite number of milliseconds > 0/,
    ],
    [{ handshakeTimeoutMs: '5000' }, 'handshakeTimeoutMs', /got "5000"/],
    [{ handshakeTimeoutMs: -1 }, 'handshakeTimeoutMs', /> 0/],
    [
      { credentials: [{ ...key, expiration: '2099-01-01T00:00:00Z' }] },
      'credentials',
      /valid Date, e\.g\. new Date/,
    ],
    [{ credentials: [{ ...key, expiration: new Date('nope') }] }, 'credentials', /got "Invalid Date"/],
    [{ credentials: [{ accessKeyId: 'AKIA' }] }, 'credentials', /string accessKeyId and secretAccessKey/],
    [{ credentials: [] }, 'credentials', /must not be empty/],
    [{ endpoint: 'mydb.abc.us-east-1.rds.amazonaws.com' }, 'endpoint', /host:port .*amazonaws\.com:5432/],
    [{ endpoint: 'mydb:0' }, 'endpoint', /host:port/],
    [{ endpoint: 'mydb:70000' }, 'endpoint', /host:port/],
    [{ endpoint: '::1:5432' }, 'endpoint', /host:port/],
    [{ endpoint: 5432 }, 'endpoint', /must be a host name/],
  ])('refuses %o with an EmulatorOptionsError naming %s', async (extra, option, message) => {
    const err = await startEmulator({
      engine: 'postgres',
      upstream: 'postgres://postgres@127.0.0.1:1/none',
      ...(extra as object),
    }).then(
      (emu) => emu.stop().then(() => undefined),
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(EmulatorOptionsError)
    expect((err as EmulatorOptionsError).option).toBe(option)
    expect((err as Error).message).toMatch(message)
  })

  it('accepts the endpoint forms it documents', async () => {
    for (const [engine, endpoint] of [
      ['postgres', 'mydb.abc.us-east-1.rds.amazonaws.com:5432'],
      ['postgres', '[::1]:5432'],
      ['dsql', 'abc.dsql.us-east-1.on.aws'],
    ] as const) {
      const emu = await startEmulator({ engine, upstream: 'postgres://postgres@127.0.0.1:1/none', endpoint })
      await emu.stop()
    }
  })

  it('keeps the secret key and session token out of util.inspect output', async () => {
    const emu = await startEmulator({
      engine: 'postgres',
      upstream: 'postgres://postgres@127.0.0.1:1/none',
      credentials: [
        {
          accessKeyId: 'ASIAINSPECTTEST00001',
          secretAccessKey: 'inspect-secret',
          sessionToken: 'inspect-session',
        },
      ],
    })
    try {
      const shown = inspect(emu, { depth: 5 }) + inspect(emu.credentials) + inspect(emu.credentials[0])
      expect(shown).toContain('ASIAINSPECTTEST00001')
      expect(shown).not.toContain('inspect-secret')
      expect(shown).not.toContain('inspect-session')
      expect(emu.credentials[0]!.secretAccessKey).toBe('inspect-secret')
    } finally {
      await emu.stop()
    }
  })
})

describe.skipIf(!pgReachable)('startEmulator endpoint, credentials and policy (local PostgreSQL)', () => {
  const endpointHost = 'mydb.abc123xyz.eu-west-1.rds.amazonaws.com'
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator({
      engine: 'postgres',
      upstream: PG_URL,
      region: 'eu-west-1',
      endpoint: `${endpointHost}:5432`,
      credentials: [
        { accessKeyId: 'AKIAPOLICYTEST000001', secretAccessKey: 'static-secret' },
        {
          accessKeyId: 'ASIAPOLICYTEST000002',
          secretAccessKey: 'temp-secret',
          sessionToken: `temp-session-${'x'.repeat(1500)}`,
        },
      ],
      policy: [
        { accessKeyId: 'AKIA*', users: ['app_*'] },
        { accessKeyId: 'ASIAPOLICYTEST000002', users: ['reader'] },
      ],
    })
  })
  afterAll(async () => {
    await emu?.stop()
  })

  /** Connects through localhost while the token and certificate name the RDS endpoint (an SSH tunnel). */
  function tunnelConfig(user: string, token: string): pg.ClientConfig {
    return {
      ...clientConfig(emu, user, token),
      ssl: { ca: emu.ca, servername: endpointHost, rejectUnauthorized: true },
    }
  }

  it('accepts tokens signed for the advertised endpoint through a tunnel; the certificate covers it', async () => {
    expect(emu.endpoint).toBe(`${endpointHost}:5432`)
    const token = await signToken(emu, 'app_writer', { hostname: endpointHost, port: 5432 })
    const client = new pg.Client(tunnelConfig('app_writer', token))
    await client.connect()
    expect((await client.query('select 9 as nine')).rows).toEqual([{ nine: 9 }])
    await client.end()
  })

  it('rejects a token signed for the tunnel address instead of the endpoint', async () => {
    const token = await signToken(emu, 'app_writer')
    const err = await connectError(tunnelConfig('app_writer', token))
    expect([err.code, err.message]).toEqual(['28000', 'PAM authentication failed for user "app_writer"'])
  })

  it('applies the policy per key, with session credentials', async () => {
    const reader = await signToken(emu, 'reader', { hostname: endpointHost, port: 5432, key: 1 })
    const ok = new pg.Client(tunnelConfig('reader', reader))
    await ok.connect()
    await ok.end()

    const before = emu.stats().rejected.NotAuthorized
    const denied = await signToken(emu, 'reader', { hostname: endpointHost, port: 5432, key: 0 })
    const err = await connectError(tunnelConfig('reader', denied))
    expect([err.code, err.message]).toEqual(['28000', 'PAM authentication failed for user "reader"'])
    expect(emu.stats().rejected.NotAuthorized).toBe(before + 1)
  })
})
