import { createRequire } from 'node:module'
import { connect } from 'node:net'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createPool, type IamPoolOptions, withIam } from '../src/index.js'

// Issue 8 item 4: mysql2 checks the host name only with `ssl.verifyIdentity: true`, so any server
// holding a certificate from a trusted CA used to receive the token. The name is now verified
// whenever a token is sent; through a tunnel (connecting to 127.0.0.1) against
// iam.signingHostname, the name on the RDS certificate.
const require = createRequire(import.meta.url)
const VERSIONS: [string, typeof import('mysql2')][] = [
  ['mysql2 3.9.0', require('mysql2')],
  ['mysql2 latest', require('mysql2-latest')],
]
const RDS_HOST = 'db.example.us-east-1.rds.amazonaws.com'
const OTHER_HOST = 'db.other.us-east-1.rds.amazonaws.com'

describe.each(VERSIONS)('%s: the server certificate must name the endpoint', (_label, mysql2) => {
  let emu: Emulator
  beforeAll(async () => {
    // The certificate names RDS_HOST (and localhost); tokens must be signed for RDS_HOST:3306.
    emu = await startEmulator({ engine: 'mysql', upstream: TEST_URLS.mysql, endpoint: `${RDS_HOST}:3306` })
  })
  afterAll(() => emu?.stop())

  let n = 0
  const logins = () => {
    const s = emu.stats()
    return s.accepted + Object.values(s.rejected).reduce((a, b) => a + b, 0)
  }
  const tunnel = (signingHostname: string): IamPoolOptions => ({
    host: '127.0.0.1',
    port: emu.port,
    user: `tls_user_${n++}`,
    database: 'test',
    ssl: { ca: emu.ca },
    connectionLimit: 1,
    iam: { region: emu.region, credentials: emu.credentials[0]!, signingHostname, signingPort: 3306 },
  })
  const query = (pool: { query(sql: string, cb: (err: unknown, rows: unknown) => void): unknown }) =>
    new Promise<unknown>((resolve, reject) =>
      pool.query('select 1 as one', (err, rows) => (err ? reject(err) : resolve(rows))),
    )
  const end = (pool: { end(cb: () => void): void }) =>
    new Promise<void>((resolve) => pool.end(() => resolve()))

  test('tunnel: the certificate is checked against iam.signingHostname and accepted', async () => {
    const pool = createPool(tunnel(RDS_HOST), { mysql2 })
    try {
      expect(await query(pool)).toEqual([{ one: 1 }])
    } finally {
      await end(pool)
    }
  })

  test('tunnel, your own mysql2 pool from withIam: accepted the same way', async () => {
    const pool = mysql2.createPool(withIam(tunnel(RDS_HOST)))
    try {
      expect(await query(pool)).toEqual([{ one: 1 }])
    } finally {
      await end(pool)
    }
  })

  test('tunnel: a certificate for another name is refused before any token is sent', async () => {
    const before = logins()
    const pool = createPool(tunnel(OTHER_HOST), { mysql2 })
    try {
      const error = await query(pool).then(
        () => undefined,
        (err: unknown) => err,
      )
      expectNameMismatch(error)
      expect(logins()).toBe(before)
    } finally {
      await end(pool)
    }
  })

  test('a host name the certificate does not carry is refused before any token is sent', async () => {
    const before = logins()
    // What a DNS hijack looks like to the client: the name says OTHER_HOST, the server is ours.
    const pool = mysql2.createPool(
      withIam({
        host: OTHER_HOST,
        port: 3306,
        user: `tls_user_${n++}`,
        ssl: { ca: emu.ca },
        stream: () => connect(emu.port, '127.0.0.1'),
        iam: { region: emu.region, credentials: emu.credentials[0]! },
      }),
    )
    try {
      const error = await query(pool).then(
        () => undefined,
        (err: unknown) => err,
      )
      expectNameMismatch(error)
      expect(logins()).toBe(before)
    } finally {
      await end(pool)
    }
  })

  test('the right host name through your own stream is accepted', async () => {
    const pool = mysql2.createPool(
      withIam({
        host: RDS_HOST,
        port: 3306,
        user: `tls_user_${n++}`,
        ssl: { ca: emu.ca },
        stream: () => connect(emu.port, '127.0.0.1'),
        iam: { region: emu.region, credentials: emu.credentials[0]! },
      }),
    )
    try {
      expect(await query(pool)).toEqual([{ one: 1 }])
    } finally {
      await end(pool)
    }
  })
})

// mysql2 reports every TLS failure of the handshake as HANDSHAKE_SSL_ERROR, with Node's message.
function expectNameMismatch(error: unknown): void {
  expect(error).toMatchObject({ code: 'HANDSHAKE_SSL_ERROR' })
  expect(String((error as Error).message)).toMatch(/does not match certificate's altnames/)
  expect(String((error as Error).message)).toContain(OTHER_HOST)
}

describe('TLS options handed to mysql2', () => {
  const iam = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' } }
  test('verifyIdentity is on and, through a tunnel, mysql2 is told the signing host name', () => {
    const config = withIam({
      host: '127.0.0.1',
      port: 13306,
      user: 'app',
      iam: { ...iam, signingHostname: RDS_HOST },
    })
    expect(config.ssl).toMatchObject({ rejectUnauthorized: true, verifyIdentity: true })
    expect(config.host).toBe(RDS_HOST)
    expect(config.port).toBe(13306)
  })

  test('ssl.verifyIdentity: false is refused with RDS_IAM_INSECURE_TRANSPORT unless iam.insecure', () => {
    expect(() => withIam({ host: RDS_HOST, user: 'app', ssl: { verifyIdentity: false }, iam })).toThrow(
      expect.objectContaining({ code: 'RDS_IAM_INSECURE_TRANSPORT' }),
    )
    expect(
      withIam({
        host: RDS_HOST,
        user: 'app',
        ssl: { verifyIdentity: false },
        iam: { ...iam, insecure: true },
      }).ssl,
    ).toMatchObject({ verifyIdentity: false })
  })
})
