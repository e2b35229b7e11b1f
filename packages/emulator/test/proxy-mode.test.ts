import { Signer } from '@aws-sdk/rds-signer'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../src/index.js'
import { MYSQL_URL, requireMysql, upstreamOptions } from './fixtures/mysql-env.js'
import { connectError, PG_URL, requirePostgres } from './fixtures/pg-env.js'

// `proxy: true`: the emulator stands in for RDS Proxy. Texts asserted here are the ones in
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.troubleshooting.html
const PROXY = 'app-proxy.proxy-c9akciq32abc.eu-west-1.rds.amazonaws.com'
const pgReachable = await requirePostgres(PG_URL)
const mysqlReachable = await requireMysql(MYSQL_URL)

function token(emu: Emulator, user: string, hostname = PROXY, port = 5432): Promise<string> {
  return new Signer({
    hostname,
    port,
    username: user,
    region: emu.region,
    credentials: emu.credentials[0]!,
  }).getAuthToken()
}

describe.skipIf(!pgReachable)('proxy: true, postgres', () => {
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator({
      engine: 'postgres',
      proxy: true,
      upstream: PG_URL,
      endpoint: `${PROXY}:5432`,
      region: 'eu-west-1',
    })
  }, 60_000)
  afterAll(async () => {
    await emu?.stop()
  })
  const config = (
    password: string,
    ssl: pg.ClientConfig['ssl'] = { ca: emu.ca, servername: PROXY },
  ): pg.ClientConfig => ({
    host: emu.host,
    port: emu.port,
    user: 'app',
    password,
    database: 'test',
    ssl,
    connectionTimeoutMillis: 10_000,
  })

  it('accepts a token signed for the proxy endpoint, over TLS checked for the proxy name', async () => {
    const client = new pg.Client(config(await token(emu, 'app')))
    await client.connect()
    expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }])
    await client.end()
  })

  it("refuses a token signed for the connect address with the proxy's IAM text (class 28)", async () => {
    const err = await connectError(config(await token(emu, 'app', 'localhost', emu.port)))
    expect(err.code).toBe('28000')
    expect(err.message).toBe(
      'IAM authentication failed for user app. Check the IAM token for this user and try again.',
    )
  })

  it('requires TLS: the documented "IAM authentication is allowed only with SSL connections."', async () => {
    const err = await connectError(config(await token(emu, 'app'), false))
    expect(err.message).toBe('IAM authentication is allowed only with SSL connections.')
    expect(err.code).toBe('28000')
  })

  it('proxyRefuseNext: "Timed-out waiting to acquire database connection." (53300), then the client limit; counted', async () => {
    const before = emu.stats()
    emu.faults.proxyRefuseNext(1)
    const borrow = await connectError(config(await token(emu, 'app')))
    expect(borrow.code).toBe('53300')
    expect(borrow.message).toBe('Timed-out waiting to acquire database connection.')
    emu.faults.proxyRefuseNext(1, 'client-limit')
    const limit = await connectError(config(await token(emu, 'app')))
    expect(limit.message).toMatch(/^The maximum number of client connections to the proxy exceeded \d+\.$/)
    const after = emu.stats()
    expect(after.proxyRefused - before.proxyRefused).toBe(2)
    expect(after.rejected.InvalidToken - before.rejected.InvalidToken).toBe(0)
    // The fault is used up: the next login goes through.
    const client = new pg.Client(config(await token(emu, 'app')))
    await client.connect()
    await client.end()
  })

  it('the proxy fault needs proxy: true', async () => {
    const plain = await startEmulator({ engine: 'postgres', upstream: PG_URL })
    try {
      expect(() => plain.faults.proxyRefuseNext(1)).toThrow(/proxy: true/)
    } finally {
      await plain.stop()
    }
  })
})

describe.skipIf(!mysqlReachable)('proxy: true, mysql', () => {
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator({
      engine: 'mysql',
      proxy: true,
      upstream: MYSQL_URL,
      endpoint: `${PROXY}:3306`,
      region: 'eu-west-1',
    })
  }, 60_000)
  afterAll(async () => {
    await emu?.stop()
  })
  const options = (password: () => Promise<string>, tls = true): mysql.ConnectionOptions => ({
    host: emu.host,
    port: emu.port,
    user: 'root',
    database: upstreamOptions().database,
    ...(tls ? { ssl: { ca: emu.ca, rejectUnauthorized: true } } : {}),
    authPlugins: { mysql_clear_password: () => () => password() },
    connectTimeout: 10_000,
  })
  const failure = async (opts: mysql.ConnectionOptions) => {
    try {
      const conn = await mysql.createConnection(opts)
      await conn.end()
    } catch (err) {
      return err as Error & { errno?: number; sqlState?: string }
    }
    throw new Error('login unexpectedly succeeded')
  }

  it('accepts a token for the proxy endpoint', async () => {
    const conn = await mysql.createConnection(options(() => token(emu, 'root', PROXY, 3306)))
    const [rows] = await conn.query('select 1 as one')
    expect(rows).toEqual([{ one: 1 }])
    await conn.end()
  })

  it("refuses a bad token with 1045 and the proxy's '%' host", async () => {
    const err = await failure(options(() => token(emu, 'root', 'localhost', emu.port)))
    expect(err.errno).toBe(1045)
    expect(err.message).toBe("Access denied for user 'root'@'%' (using password: YES)")
  })

  it('requires TLS: ERROR 3159 "This RDS Proxy requires TLS connections."', async () => {
    const err = await failure(options(() => token(emu, 'root', PROXY, 3306), false))
    expect(err.errno).toBe(3159)
    expect(err.message).toBe('This RDS Proxy requires TLS connections.')
  })

  it('proxyRefuseNext: ERROR 9501 borrow timeout and 1040 client limit, not 1045', async () => {
    emu.faults.proxyRefuseNext(1)
    const borrow = await failure(options(() => token(emu, 'root', PROXY, 3306)))
    expect(borrow.errno).toBe(9501)
    expect(borrow.message).toBe('Timed-out waiting to acquire database connection')
    emu.faults.proxyRefuseNext(1, 'client-limit')
    const limit = await failure(options(() => token(emu, 'root', PROXY, 3306)))
    expect(limit.errno).toBe(1040)
    expect(limit.message).toMatch(/^Number simultaneous connections exceeded \(\d+\)$/)
  })
})
