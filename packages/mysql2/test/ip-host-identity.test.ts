import { createRequire } from 'node:module'
import { connect, createServer } from 'node:net'
import { TLSSocket } from 'node:tls'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import type { PoolConnection } from 'mysql2'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createPool, RdsIamError, withIam } from '../src/index.js'
import { createConnection as createPromiseConnection } from '../src/promise.js'
import { type FakeMysqlServer, LOCALHOST_ONLY_CA, startFakeMysqlServer } from './fake-mysql-server.js'

// Security review, item 1: mysql2 ≥ 3.15.3 sends no TLS server name when `host` is an IP address,
// so Node checked the certificate against the socket's `_host` (null for an IP connect) and then
// 'localhost'. A server on 127.0.0.1 holding any trusted certificate for DNS:localhost received
// the token (mysql2 3.24; 3.9.0 names the IP to Node and refused). Now the socket rds-iam hands
// mysql2 (or your own stream) carries the IP as `_host`, so Node refuses at the TLS handshake and
// mysql2 caches no TLS session of such a server; and the token plugin checks the server itself
// before the token leaves (chain verified, tls.checkServerIdentity(iam.signingHostname ?? host)),
// which the case of a host changed after withIam shows on its own.
const require = createRequire(import.meta.url)
// The last element: mysql2 < 3.15.3 hands an IP to Node as TLS server name, which Node reports as
// deprecation DEP0123 (see the README); the warning is mysql2's own, not what is tested here.
const VERSIONS: [string, typeof import('mysql2'), typeof import('mysql2/promise'), boolean][] = [
  ['mysql2 3.9.0', require('mysql2'), require('mysql2/promise'), true],
  ['mysql2 latest', require('mysql2-latest'), require('mysql2-latest/promise'), false],
]
const credentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
}
const iam = { region: 'us-east-1', credentials, retry: { maxAttempts: 1 } }

type CallbackPool = {
  query(sql: string, cb: (err: unknown, rows: unknown) => void): unknown
  end(cb: () => void): void
}
const query = (pool: CallbackPool) =>
  new Promise<unknown>((resolve, reject) =>
    pool.query('select 1 as one', (err, rows) => (err ? reject(err) : resolve(rows))),
  )
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: unknown) => err,
  )
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
const end = (pool: CallbackPool) => new Promise<void>((resolve) => pool.end(() => resolve()))

/** Silences deprecation warnings while a describe block runs (scripts/fail-on-warning.ts fails on them). */
function allowDep0123(namesIpToNode: boolean): void {
  let saved: boolean | undefined
  beforeAll(() => {
    saved = process.noDeprecation
    if (namesIpToNode) process.noDeprecation = true
  })
  afterAll(() => {
    process.noDeprecation = saved ?? false
  })
}

/**
 * Refused before any token left: by the TLS handshake (Node checks the IP) or, where that check
 * did not run on the IP, by the token plugin (typed, naming the IP).
 */
function expectRefused(error: unknown, ip: string): void {
  expect(error, 'the login went through').toBeDefined()
  if (error instanceof RdsIamError) {
    expect(error.code).toBe('RDS_IAM_INSECURE_TRANSPORT')
    expect(error.message).toContain(ip)
    expect(error.hint).toMatch(/signingHostname/)
    expect(String((error.cause as Error)?.message)).toMatch(/not in the cert's list/)
    return
  }
  expect(error).toMatchObject({ code: 'HANDSHAKE_SSL_ERROR' })
  expect(String((error as Error).message)).toMatch(
    new RegExp(`IP: ${ip.replace(/\./g, '\\.')} is not in the cert's list`),
  )
}

describe.each(VERSIONS)(
  '%s: an IP host is checked against the certificate’s IP addresses',
  (_label, mysql2, mysql2Promise, namesIpToNode) => {
    allowDep0123(namesIpToNode)
    let fake: FakeMysqlServer
    beforeAll(async () => {
      fake = await startFakeMysqlServer()
    })
    afterAll(() => fake?.close())

    const atFake = { host: '127.0.0.1', user: 'app', ssl: { ca: LOCALHOST_ONLY_CA }, iam }

    test('createPool: a certificate for DNS:localhost only does not get the token for 127.0.0.1', async () => {
      const before = fake.connections()
      const pool = createPool({ ...atFake, port: fake.port, connectionLimit: 1 }, { mysql2 })
      try {
        expectRefused(await failure(query(pool)), '127.0.0.1')
      } finally {
        await end(pool)
      }
      expect(fake.connections()).toBeGreaterThan(before)
      expect(fake.passwordsReceived()).toBe(0)
    })

    test('promise createConnection: refused the same way', async () => {
      const error = await failure(
        createPromiseConnection({ ...atFake, port: fake.port }, { mysql2: mysql2Promise }),
      )
      expectRefused(error, '127.0.0.1')
      expect(fake.passwordsReceived()).toBe(0)
    })

    test('your own mysql2 pool from withIam: refused the same way', async () => {
      const pool = mysql2.createPool(withIam({ ...atFake, port: fake.port, connectionLimit: 1 }))
      try {
        const error = await failure(query(pool as unknown as CallbackPool))
        // Your own pool hands mysql2's error through: the plugin's RdsIamError is its cause.
        expectRefused(
          error instanceof Error && error.cause instanceof RdsIamError ? error.cause : error,
          '127.0.0.1',
        )
      } finally {
        await end(pool as unknown as CallbackPool)
      }
      expect(fake.passwordsReceived()).toBe(0)
    })

    test('a name Node would accept that is not the one rds-iam verified (host changed after withIam): refused, typed', async () => {
      const config = withIam({ ...atFake, port: fake.port, connectionLimit: 1 })
      // mysql2 now names 'localhost' to Node, which the certificate carries; the token is for 127.0.0.1.
      config.host = 'localhost'
      const pool = mysql2.createPool(config)
      const resumedBefore = fake.resumed()
      try {
        for (let attempt = 1; attempt <= 2; attempt++) {
          // The second attempt resumes the first one's TLS session on mysql2 ≥ 3.24 (no certificate then).
          const error = await failure(query(pool as unknown as CallbackPool))
          const typed = error instanceof Error && error.cause instanceof RdsIamError ? error.cause : error
          expect(typed, `attempt ${attempt}`).toBeInstanceOf(RdsIamError)
          expect((typed as RdsIamError).code).toBe('RDS_IAM_INSECURE_TRANSPORT')
          expect((typed as RdsIamError).message).toContain('127.0.0.1')
        }
        expect(fake.resumed() > resumedBefore, 'the second attempt resumed the TLS session').toBe(
          !namesIpToNode,
        )
      } finally {
        await end(pool as unknown as CallbackPool)
      }
      expect(fake.passwordsReceived()).toBe(0)
    })

    test('a server that hangs up before asking for the password, then resumes that TLS session, gets no token either', async () => {
      // mysql2 ≥ 3.24 caches the session of a handshake Node accepted and resumes it without a
      // certificate, so Node itself must check the IP: nothing is cached for this server.
      const pool = createPool({ ...atFake, port: fake.port, connectionLimit: 1 }, { mysql2 })
      try {
        fake.hangUpBeforePassword = true
        expect(await failure(query(pool))).toBeDefined()
        fake.hangUpBeforePassword = false
        expectRefused(await failure(query(pool)), '127.0.0.1')
      } finally {
        fake.hangUpBeforePassword = false
        await end(pool)
      }
      expect(fake.passwordsReceived()).toBe(0)
    })

    test('your own stream (an IP host, the socket made by you): refused the same way', async () => {
      const pool = createPool(
        { ...atFake, port: 3306, stream: () => connect(fake.port, '127.0.0.1'), connectionLimit: 1 },
        { mysql2 },
      )
      try {
        expectRefused(await failure(query(pool)), '127.0.0.1')
      } finally {
        await end(pool)
      }
      expect(fake.passwordsReceived()).toBe(0)
    })
  },
)

describe.each(VERSIONS)(
  '%s: an IP host whose certificate carries that IP connects',
  (_label, mysql2, _promise, namesIpToNode) => {
    allowDep0123(namesIpToNode)
    let emu: Emulator
    beforeAll(async () => {
      // The emulator's certificate names localhost, 127.0.0.1 and ::1. Tokens must be signed for
      // 127.0.0.1:<port>, the endpoint as this client names it, so the port is chosen up front.
      const port = await freePort()
      emu = await startEmulator({
        engine: 'mysql',
        upstream: TEST_URLS.mysql,
        port,
        endpoint: `127.0.0.1:${port}`,
      })
    })
    afterAll(() => emu?.stop())

    let n = 0
    const config = (extra: object = {}) => ({
      host: '127.0.0.1',
      port: emu.port,
      user: `ip_user_${n++}`,
      database: 'test',
      ssl: { ca: emu.ca },
      connectionLimit: 1,
      iam: { region: emu.region, credentials: emu.credentials[0]! },
      ...extra,
    })

    test('createPool to 127.0.0.1, and again on a new connection (a resumed TLS session)', async () => {
      const pool = createPool(config(), { mysql2 })
      try {
        expect(await query(pool)).toEqual([{ one: 1 }])
        // mysql2 ≥ 3.24 resumes TLS sessions, which carry no certificate; the login must still go through.
        const acquire = () =>
          new Promise<PoolConnection>((resolve, reject) =>
            pool.getConnection((err, c) => (err ? reject(err) : resolve(c))),
          )
        ;(await acquire()).destroy()
        const second = await acquire()
        const stream = (second as unknown as { stream?: unknown }).stream
        // 3.9.0 keeps the TCP socket as `stream` and caches no sessions.
        expect(stream instanceof TLSSocket ? stream.isSessionReused() : 'no session cache').toBe(
          namesIpToNode ? 'no session cache' : true,
        )
        second.release()
        expect(await query(pool)).toEqual([{ one: 1 }])
      } finally {
        await end(pool)
      }
    })

    test('your own stream to 127.0.0.1', async () => {
      const pool = mysql2.createPool(withIam(config({ stream: () => connect(emu.port, '127.0.0.1') })))
      try {
        expect(await query(pool as unknown as CallbackPool)).toEqual([{ one: 1 }])
      } finally {
        await end(pool as unknown as CallbackPool)
      }
    })
  },
)
