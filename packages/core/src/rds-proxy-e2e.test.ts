import { randomBytes } from 'node:crypto'
import type { ConnectionOptions } from 'node:tls'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { requireService, TEST_URLS } from '@rds-iam/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isProxyCapacityError } from './auth-error.js'
import { withAuthRetry } from './auth-retry.js'
import { createConnectionAuth } from './connection-auth.js'
import type { IamOptions } from './iam-options.js'
import { isRdsIamError } from './rds-iam-error.js'
import { resolveTls } from './rds-tls.js'

// Core's proxy path end to end, with real pg and mysql2 clients against the emulator standing in
// for RDS Proxy (`proxy: true`): the token is signed for the proxy endpoint (the client connects
// to localhost, as through a tunnel), TLS is verified for the proxy's name, the proxy's IAM refusal
// is retried as an auth failure, and its MaxConnectionsPercent refusal is passed through untouched.
const PROXY = 'app-proxy.proxy-c9akciq32abc.eu-west-1.rds.amazonaws.com'
const RETRY = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 }
// Under CI a missing database throws here (with the command that starts it); elsewhere it warns
// and the engine's cases are reported as skipped.
const REACHABLE = { postgres: await requireService('postgres'), mysql: await requireService('mysql') }

interface Engine {
  name: 'postgres' | 'mysql'
  port: number
  connect(
    emu: Emulator,
    user: string,
    password: () => Promise<string>,
    ssl: false | ConnectionOptions,
  ): Promise<() => Promise<void>>
}

const ENGINES: Engine[] = [
  {
    name: 'postgres',
    port: 5432,
    async connect(emu, user, password, ssl) {
      const pg = (await import('pg')).default
      const client = new pg.Client({
        host: emu.host,
        port: emu.port,
        user,
        database: 'test',
        password,
        ssl,
        connectionTimeoutMillis: 5000,
      })
      client.on('error', () => {})
      try {
        await client.connect()
      } catch (err) {
        await client.end().catch(() => {})
        throw err
      }
      await client.query('select 1')
      return () => client.end()
    },
  },
  {
    name: 'mysql',
    port: 3306,
    async connect(emu, user, password, ssl) {
      const mysql = await import('mysql2/promise')
      const conn = await mysql.createConnection({
        host: emu.host,
        port: emu.port,
        user,
        database: new URL(TEST_URLS.mysql).pathname.slice(1) || 'test',
        ...(ssl === false ? {} : { ssl: ssl as never }),
        authPlugins: { mysql_clear_password: () => () => password() },
        connectTimeout: 5000,
      })
      await conn.query('select 1')
      return () => conn.end()
    },
  },
]

describe.each(ENGINES)('RDS Proxy end to end: $name', (engine) => {
  const it_ = REACHABLE[engine.name] ? it : it.skip
  let emu: Emulator | undefined
  const key = {
    accessKeyId: `AKIAPROXY${randomBytes(6).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
  }

  beforeAll(async () => {
    if (!REACHABLE[engine.name]) return
    emu = await startEmulator({
      engine: engine.name,
      proxy: true,
      upstream: TEST_URLS[engine.name],
      endpoint: `${PROXY}:${engine.port}`,
      region: 'eu-west-1',
      credentials: [key],
    })
  }, 60_000)
  afterAll(async () => {
    await emu?.stop()
  })

  const setup = (iam: Partial<IamOptions> = {}) => {
    if (!emu) throw new Error(`the ${engine.name} proxy emulator did not start`)
    // A fresh user per case: core shares one cache entry (and its counters) per user and endpoint.
    // The upstream URLs name their user, so the emulator logs in upstream as that one.
    const user = `app_${randomBytes(4).toString('hex')}`
    const options: IamOptions = {
      credentials: key,
      signingHostname: PROXY,
      signingPort: engine.port,
      retry: RETRY,
      maxNewConnectionsPerSecond: 0,
      ...iam,
    }
    const auth = createConnectionAuth(
      { host: emu.host, port: emu.port, user, iam: options },
      {
        defaultPort: engine.port,
        urlOption: 'connectionString',
        engine: engine.name,
      },
    )
    return { emu, auth, user, options }
  }

  it_(
    'logs in with a token signed for the proxy endpoint, over TLS verified for the proxy name',
    async () => {
      const { emu, auth, user, options } = setup()
      expect(auth.provider.target).toMatchObject({
        hostname: PROXY,
        port: engine.port,
        region: 'eu-west-1',
        service: 'rds',
      })
      const ssl = resolveTls({ ca: emu.ca }, options, { host: emu.host })
      expect(ssl).toMatchObject({ servername: PROXY, rejectUnauthorized: true })
      const close = await withAuthRetry(
        () => engine.connect(emu, user, auth.nextToken, ssl),
        auth.provider,
        RETRY,
      )
      await close()
      expect(auth.provider.stats().signed).toBe(1)
    },
  )

  it_(
    "the proxy's IAM refusal is an auth failure: re-signed, retried, then RDS_IAM_AUTH_FAILED",
    async () => {
      const { emu, auth, user, options } = setup()
      const ssl = resolveTls({ ca: emu.ca }, options, { host: emu.host })
      emu.faults.rejectNext(100)
      try {
        const err = await withAuthRetry(
          () => engine.connect(emu, user, auth.nextToken, ssl),
          auth.provider,
          RETRY,
        ).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(isRdsIamError(err) && err.code).toBe('RDS_IAM_AUTH_FAILED')
        expect(auth.provider.stats().signed).toBe(RETRY.maxAttempts)
      } finally {
        emu.faults.reset()
      }
    },
  )

  it_('a MaxConnectionsPercent refusal passes through untouched: no retry, no re-signing', async () => {
    const { emu, auth, user, options } = setup()
    const ssl = resolveTls({ ca: emu.ca }, options, { host: emu.host })
    const before = emu.stats().proxyRefused
    emu.faults.proxyRefuseNext(5)
    try {
      const err = await withAuthRetry(
        () => engine.connect(emu, user, auth.nextToken, ssl),
        auth.provider,
        RETRY,
      ).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isRdsIamError(err)).toBe(false)
      expect(isProxyCapacityError(err)).toBe(true)
      expect((err as Error).message).toMatch(/Timed-out waiting to acquire database connection/)
      expect(emu.stats().proxyRefused - before).toBe(1)
      expect(auth.provider.stats().signed).toBe(1)
    } finally {
      emu.faults.reset()
    }
  })

  it_(
    "without TLS (iam.insecure) the proxy's refusal becomes RDS_IAM_INSECURE_TRANSPORT, not retried",
    async () => {
      const { emu, auth, user } = setup({ insecure: true })
      const err = await withAuthRetry(
        () => engine.connect(emu, user, auth.nextToken, false),
        auth.provider,
        RETRY,
      ).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isRdsIamError(err) && err.code).toBe('RDS_IAM_INSECURE_TRANSPORT')
    },
  )
})
