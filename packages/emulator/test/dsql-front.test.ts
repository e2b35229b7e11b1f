import { randomBytes } from 'node:crypto'
import { DsqlSigner } from '@aws-sdk/dsql-signer'
import { Signer } from '@aws-sdk/rds-signer'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, EmulatorOptionsError, startEmulator } from '../src/index.js'
import { connectError, PG_URL, requirePostgres } from './fixtures/pg-env.js'

// Aurora DSQL on the PostgreSQL front, signed by AWS's own @aws-sdk/dsql-signer and checked by
// the emulator's independent verifier, with real pg clients in front of the local PostgreSQL.
const pgReachable = await requirePostgres(PG_URL)
const CLUSTER = `${randomBytes(13).toString('hex')}.dsql.eu-west-2.on.aws`
const ADMIN_KEY = { accessKeyId: 'AKIADSQLADMIN0000001', secretAccessKey: randomBytes(30).toString('base64') }
const APP_KEY = { accessKeyId: 'AKIADSQLAPP000000001', secretAccessKey: randomBytes(30).toString('base64') }

function dsqlToken(
  emu: Emulator,
  admin: boolean,
  over: { hostname?: string; key?: typeof ADMIN_KEY; expiresIn?: number; region?: string } = {},
): Promise<string> {
  const signer = new DsqlSigner({
    hostname: over.hostname ?? emu.endpoint,
    region: over.region ?? emu.region,
    credentials: over.key ?? ADMIN_KEY,
    ...(over.expiresIn === undefined ? {} : { expiresIn: over.expiresIn }),
  })
  return admin ? signer.getDbConnectAdminAuthToken() : signer.getDbConnectAuthToken()
}

function config(emu: Emulator, user: string, password: string): pg.ClientConfig {
  // The client connects to localhost and checks the certificate for the cluster's name, as it
  // would through a tunnel to DSQL.
  return {
    host: emu.host,
    port: emu.port,
    user,
    password,
    database: 'test',
    ssl: { ca: emu.ca, servername: CLUSTER, rejectUnauthorized: true },
    connectionTimeoutMillis: 10_000,
  }
}

async function login(emu: Emulator, user: string, password: string): Promise<number> {
  const client = new pg.Client(config(emu, user, password))
  client.on('error', () => {})
  await client.connect()
  try {
    return (await client.query('select 1 as one')).rows[0].one
  } finally {
    await client.end()
  }
}

describe.skipIf(!pgReachable)('engine dsql (local PostgreSQL upstream)', () => {
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator({
      engine: 'dsql',
      endpoint: CLUSTER,
      upstream: PG_URL,
      credentials: [ADMIN_KEY, APP_KEY],
      admins: [ADMIN_KEY.accessKeyId],
      roles: { 'app_*': [APP_KEY.accessKeyId] },
    })
  }, 60_000)
  afterAll(async () => {
    await emu?.stop()
  })

  it('takes the region from the cluster host and advertises the host alone as endpoint', () => {
    expect(emu.region).toBe('eu-west-2')
    expect(emu.endpoint).toBe(CLUSTER)
  })

  it('admin logs in with DbConnectAdmin; a mapped role with DbConnect', async () => {
    const before = emu.stats().accepted
    expect(await login(emu, 'admin', await dsqlToken(emu, true))).toBe(1)
    expect(await login(emu, 'app_reader', await dsqlToken(emu, false, { key: APP_KEY }))).toBe(1)
    expect(emu.stats().accepted).toBe(before + 2)
  })

  it.each([
    ['admin with a DbConnect token', 'admin', false, ADMIN_KEY, 'NotAuthorized'],
    ['admin signed by a key not allowed DbConnectAdmin', 'admin', true, APP_KEY, 'NotAuthorized'],
    ['a mapped role with a DbConnectAdmin token', 'app_reader', true, APP_KEY, 'NotAuthorized'],
    ['a role not mapped to the key', 'app_reader', false, ADMIN_KEY, 'NotAuthorized'],
    ['an unmapped role', 'reporting', false, APP_KEY, 'NotAuthorized'],
  ] as const)(
    'refuses %s: 28000, DSQL text, reason in the log only',
    async (_t, user, admin, key, reason) => {
      const before = emu.stats().rejected[reason]
      const err = await connectError(config(emu, user, await dsqlToken(emu, admin, { key })))
      expect(err.code).toBe('28000')
      expect(err.message).toBe(`IAM authentication failed for user "${user}"`)
      expect(emu.stats().rejected[reason]).toBe(before + 1)
    },
  )

  it('refuses an RDS token, a token for host:port, another host or region, and X-Amz-Expires > 604800', async () => {
    const rds = await new Signer({
      hostname: CLUSTER,
      port: 5432,
      username: 'admin',
      region: emu.region,
      credentials: ADMIN_KEY,
    }).getAuthToken()
    const withPort = await dsqlToken(emu, true, { hostname: `${CLUSTER}:5432` })
    const otherHost = await dsqlToken(emu, true, { hostname: `x${CLUSTER}` })
    const otherRegion = await dsqlToken(emu, true, { region: 'us-east-1' })
    // The SDK refuses to sign past a week, so the bound is checked on an edited token (the
    // verifier checks X-Amz-Expires before the signature, and logs that reason).
    const tooLong = (await dsqlToken(emu, true)).replace('X-Amz-Expires=900', 'X-Amz-Expires=604801')
    expect(tooLong).toContain('X-Amz-Expires=604801')
    const before = emu.stats().rejected.InvalidToken
    for (const token of [rds, withPort, otherHost, otherRegion, tooLong]) {
      const err = await connectError(config(emu, 'admin', token))
      expect(err.code).toBe('28000')
    }
    expect(emu.stats().rejected.InvalidToken).toBe(before + 5)
  })

  it('accepts a week-long token; maxTokenAge forces expiry (ExpiredToken)', async () => {
    expect(await login(emu, 'admin', await dsqlToken(emu, true, { expiresIn: 604_800 }))).toBe(1)
    const token = await dsqlToken(emu, true)
    emu.faults.maxTokenAge(0)
    await new Promise((r) => setTimeout(r, 1100))
    const before = emu.stats().rejected.ExpiredToken
    try {
      const err = await connectError(config(emu, 'admin', token))
      expect(err.code).toBe('28000')
      expect(emu.stats().rejected.ExpiredToken).toBe(before + 1)
    } finally {
      emu.faults.reset()
    }
  })

  it('refuses a login without TLS with SQLSTATE 28000 and says its text is the emulator’s', async () => {
    const err = await connectError({ ...config(emu, 'admin', await dsqlToken(emu, true)), ssl: false })
    expect(err.code).toBe('28000')
    expect(err.message).toMatch(/TLS/)
    expect(err.message).toMatch(/not documented/)
  })
})

describe('startEmulator options', () => {
  it.each([
    [{ engine: 'postgres', proxi: true }, 'proxi'],
    [{ engine: 'postgres', roles: { app: ['AKIA'] } }, 'roles'],
    [{ engine: 'dsql', policy: [] }, 'policy'],
    [{ engine: 'dsql', proxy: true }, 'proxy'],
    [{ engine: 'oracle' }, 'engine'],
    [{ engine: 'dsql', roles: { app: 'AKIA' } }, 'roles'],
  ])('refuses %o with a typed error naming %s, before listening', async (options, option) => {
    const err = await startEmulator(options as never).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(EmulatorOptionsError)
    expect(err).toBeInstanceOf(TypeError)
    expect((err as EmulatorOptionsError).code).toBe('EMULATOR_INVALID_OPTIONS')
    expect((err as EmulatorOptionsError).option).toBe(option)
  })
})
