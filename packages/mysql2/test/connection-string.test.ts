import { rdsTls } from '@rds-iam/core'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { getTokenProvider, withIam } from '../src/index.js'
import { createPool } from '../src/promise.js'

// mysql2 lets `uri` override the config object; rds-iam merges it so the token plugin and TLS stay.
describe('uri and ssl (pure)', () => {
  test('uri fields are merged; the token plugin and RDS CA verification stay', () => {
    const config = withIam({
      uri: 'mysql://app@db.abc123.eu-west-1.rds.amazonaws.com:3307/shop?charset=utf8mb4',
    })
    expect(config).toMatchObject({
      host: 'db.abc123.eu-west-1.rds.amazonaws.com',
      port: 3307,
      user: 'app',
      database: 'shop',
      charset: 'utf8mb4',
    })
    expect((config as { uri?: string }).uri).toBeUndefined()
    expect(typeof (config.authPlugins as Record<string, unknown>).mysql_clear_password).toBe('function')
    expect(config.ssl).toEqual({ ca: rdsTls().ca, rejectUnauthorized: true, verifyIdentity: true })
  })

  test("mysql2's 'Amazon RDS' profile name means the current RDS bundle, with the host name verified", () => {
    // mysql2's own profile never turns on verifyIdentity, and its bundle has lagged CA rotations.
    expect(
      withIam({ host: 'h.example', user: 'app', ssl: 'Amazon RDS', iam: { region: 'us-east-1' } }).ssl,
    ).toEqual({ ca: rdsTls().ca, rejectUnauthorized: true, verifyIdentity: true })
  })

  test('an ssl object without ca gets the RDS CA bundle; its other settings are kept', () => {
    // Security review, item 3: `ca` is documented to default to the RDS bundle, but an ssl object
    // without it made Node trust its public roots (no RDS CA among them).
    const ssl = withIam({
      host: 'h.example',
      user: 'app',
      ssl: { minVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' },
      iam: { region: 'us-east-1' },
    }).ssl
    expect(ssl).toEqual({
      ca: rdsTls().ca,
      minVersion: 'TLSv1.2',
      ciphers: 'ECDHE-RSA-AES128-GCM-SHA256',
      rejectUnauthorized: true,
      verifyIdentity: true,
    })
    // Your own ca is kept as given.
    expect(
      withIam({ host: 'h.example', user: 'app', ssl: { ca: 'PEM' }, iam: { region: 'us-east-1' } }).ssl?.ca,
    ).toBe('PEM')
  })

  test('other auth plugins of the user are kept beside ours', () => {
    const other = () => () => Buffer.alloc(0)
    const config = withIam({
      host: 'h.example',
      user: 'app',
      authPlugins: { other },
      iam: { region: 'us-east-1' },
    })
    expect((config.authPlugins as Record<string, unknown>).other).toBe(other)
  })
})

describe('uri against the emulator', () => {
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'mysql', upstream: TEST_URLS.mysql })
  })
  afterAll(() => emu?.stop())

  test('a uri with an empty password connects with a token over verified TLS', async () => {
    const pool = createPool({
      uri: `mysql://uri_user:@localhost:${emu.port}/test`,
      ssl: { ca: emu.ca },
      iam: { region: emu.region, credentials: emu.credentials[0]! },
    })
    try {
      const [rows] = await pool.query('select 1 as one')
      expect(rows).toEqual([{ one: 1 }])
      expect(getTokenProvider(pool.pool)?.stats().signed).toBe(1)
    } finally {
      await pool.end()
    }
  })
})
