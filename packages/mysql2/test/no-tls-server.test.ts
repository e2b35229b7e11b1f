import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { connectWithRetry, createConnection, createPool, RdsIamError, withIam } from '../src/index.js'
import {
  createConnection as createPromiseConnection,
  createPool as createPromisePool,
} from '../src/promise.js'
import { type FakeMysqlServer, startFakeMysqlServer } from './fake-mysql-server.js'

// Security review, item 2: a server whose greeting offers no TLS (not the RDS endpoint, or a local
// MySQL without TLS) failed with mysql2's bare HANDSHAKE_NO_SSL_SUPPORT. It is now
// RDS_IAM_INSECURE_TRANSPORT with a hint, mysql2's error as `cause`; no token is sent, no retry.
const require = createRequire(import.meta.url)
const VERSIONS: [string, typeof import('mysql2'), typeof import('mysql2/promise')][] = [
  ['mysql2 3.9.0', require('mysql2'), require('mysql2/promise')],
  ['mysql2 latest', require('mysql2-latest'), require('mysql2-latest/promise')],
]
const iam = {
  region: 'us-east-1',
  credentials: {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  },
}

type Callback = (err: unknown, value?: unknown) => void

describe.each(VERSIONS)('%s: a server that offers no TLS', (_label, mysql2, mysql2Promise) => {
  let server: FakeMysqlServer
  beforeAll(async () => {
    server = await startFakeMysqlServer({ offerTls: false })
  })
  afterAll(() => server?.close())

  const config = () => ({ host: 'localhost', port: server.port, user: 'app', database: 'db', iam })
  const settle = (run: (cb: Callback) => void) =>
    new Promise<unknown>((resolve) => run((err) => resolve(err ?? new Error('it connected'))))

  const entryPoints: [string, () => Promise<unknown>][] = [
    [
      'createPool query',
      async () => {
        const pool = createPool({ ...config(), connectionLimit: 1 }, { mysql2 })
        const err = await settle((cb) => pool.query('select 1', cb))
        await new Promise<void>((resolve) => pool.end(() => resolve()))
        return err
      },
    ],
    [
      'promise createPool query',
      async () => {
        const pool = createPromisePool({ ...config(), connectionLimit: 1 }, { mysql2 })
        const err = await pool.query('select 1').then(
          () => new Error('it connected'),
          (e: unknown) => e,
        )
        await pool.end()
        return err
      },
    ],
    [
      'promise createConnection',
      () => createPromiseConnection(config(), { mysql2: mysql2Promise }).catch((e) => e),
    ],
    [
      'callback createConnection',
      async () => {
        const conn = createConnection(config(), { mysql2 })
        const err = await settle((cb) => conn.connect(cb))
        conn.destroy()
        return err
      },
    ],
    ['connectWithRetry', () => settle((cb) => connectWithRetry(config(), cb, { mysql2 }))],
  ]

  test.each(entryPoints)(
    '%s → RDS_IAM_INSECURE_TRANSPORT, mysql2’s error as cause, no retry',
    async (_name, open) => {
      const before = server.connections()
      const error = await open()
      expect(error).toBeInstanceOf(RdsIamError)
      const typed = error as RdsIamError
      expect(typed.code).toBe('RDS_IAM_INSECURE_TRANSPORT')
      expect(typed.message).toContain(`localhost:${server.port} does not offer TLS`)
      expect(typed.hint).toMatch(/RDS endpoint/)
      expect(typed.hint).toContain('ssl: false and iam: { insecure: true }')
      expect(typed.cause).toMatchObject({ code: 'HANDSHAKE_NO_SSL_SUPPORT' })
      expect(server.connections() - before).toBe(1)
      expect(server.passwordsReceived()).toBe(0)
    },
  )

  test('your own mysql2 pool from withIam reports mysql2’s own error (nothing of rds-iam is on that path)', async () => {
    const pool = mysql2.createPool(withIam({ ...config(), connectionLimit: 1 }))
    const error = await settle((cb) => pool.query('select 1', cb))
    await new Promise<void>((resolve) => pool.end(() => resolve()))
    expect(error).toMatchObject({ code: 'HANDSHAKE_NO_SSL_SUPPORT' })
    expect(server.passwordsReceived()).toBe(0)
  })
})
