import { createServer } from 'node:net'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  type FakeMysqlServer,
  LOCALHOST_ONLY_CA,
  startFakeMysqlServer,
} from '../../mysql2/test/fake-mysql-server.js'
import { RdsIamError, withIam } from '../src/index.js'
import { SEQUELIZE_VERSIONS } from './sequelize-harness.js'

// With dialect 'mysql' the token used to leave through this package's own auth plugin, which
// checked nothing: mysql2 ≥ 3.15.3 names no TLS server for an IP host, so Node checked the
// certificate against 'localhost', and a server on 127.0.0.1 with any trusted certificate for
// DNS:localhost got the token. Now the mysql path uses @rds-iam/mysql2's checks: the socket tells
// Node the IP to check, and the token plugin checks the server itself before the token leaves.
// The fake server (shared with @rds-iam/mysql2's tests) counts what would have been a token.

const credentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
}
const iam = { region: 'us-east-1', credentials, retry: { maxAttempts: 1 } }
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: unknown) => err,
  )
/** The RdsIamError behind a Sequelize error (Sequelize's `parent`, mysql2's plugin wrapper `cause`). */
function rdsIamErrorIn(error: unknown): RdsIamError | undefined {
  for (let e = error, depth = 0; e && depth < 5; depth++) {
    if (e instanceof RdsIamError) return e
    const next = e as { parent?: unknown; cause?: unknown }
    e = next.parent ?? next.cause
  }
  return undefined
}
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

describe.each(Object.entries(SEQUELIZE_VERSIONS))(
  'sequelize %s, mysql dialect: an IP host is checked against the certificate’s IP addresses',
  (_label, Sequelize) => {
    let fake: FakeMysqlServer
    beforeAll(async () => {
      fake = await startFakeMysqlServer()
    })
    afterAll(() => fake?.close())

    const atFake = (dialectOptions: object = {}) =>
      withIam({
        dialect: 'mysql',
        host: '127.0.0.1',
        port: fake.port,
        username: 'app',
        logging: false,
        databaseVersion: '8.0.0',
        pool: { max: 1, min: 0 },
        dialectOptions: { ssl: { ca: LOCALHOST_ONLY_CA }, ...dialectOptions },
        iam,
      })

    test('a certificate for DNS:localhost only does not get the token for 127.0.0.1', async () => {
      const before = fake.connections()
      const sequelize = new Sequelize(atFake())
      try {
        const error = (await failure(sequelize.authenticate())) as Error | undefined
        expect(error, 'the login went through').toBeDefined()
        // Node refuses at the TLS handshake, naming the IP it checked.
        expect(String(error?.message)).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list/)
      } finally {
        await sequelize.close()
      }
      expect(fake.connections()).toBeGreaterThan(before)
      expect(fake.passwordsReceived()).toBe(0)
    })

    test('a name Node accepts that is not the one verified (dialectOptions.host: localhost): refused by the token plugin, also on a resumed TLS session', async () => {
      // mysql2 names 'localhost' to Node, which the certificate carries; the token is for 127.0.0.1.
      const sequelize = new Sequelize(atFake({ host: 'localhost' }))
      const resumedBefore = fake.resumed()
      try {
        for (let attempt = 1; attempt <= 2; attempt++) {
          // The second attempt resumes the first one's TLS session (mysql2 ≥ 3.24: no certificate then).
          const typed = rdsIamErrorIn(await failure(sequelize.authenticate()))
          expect(typed, `attempt ${attempt}`).toBeInstanceOf(RdsIamError)
          expect(typed?.code).toBe('RDS_IAM_INSECURE_TRANSPORT')
          expect(typed?.message).toContain('127.0.0.1')
        }
        expect(fake.resumed(), 'the second attempt resumed the TLS session').toBeGreaterThan(resumedBefore)
      } finally {
        await sequelize.close()
      }
      expect(fake.passwordsReceived()).toBe(0)
    })
  },
)

describe.each(Object.entries(SEQUELIZE_VERSIONS))(
  'sequelize %s, mysql dialect: an IP host whose certificate carries that IP connects',
  (_label, Sequelize) => {
    let emu: Emulator
    beforeAll(async () => {
      // The emulator's certificate names localhost, 127.0.0.1 and ::1; tokens must be signed for
      // 127.0.0.1:<port>, so the port is chosen up front.
      const port = await freePort()
      emu = await startEmulator({
        engine: 'mysql',
        upstream: TEST_URLS.mysql,
        port,
        endpoint: `127.0.0.1:${port}`,
      })
    })
    afterAll(() => emu?.stop())

    test('queries on a first and a second connection (a resumed TLS session)', async () => {
      const sequelize = new Sequelize(
        withIam({
          dialect: 'mysql',
          host: '127.0.0.1',
          port: emu.port,
          username: 'app',
          database: 'test',
          logging: false,
          databaseVersion: '8.0.0',
          pool: { max: 1, min: 0 },
          dialectOptions: { ssl: { ca: emu.ca } },
          iam: { region: emu.region, credentials: emu.credentials[0]! },
        }),
      )
      try {
        const manager = (
          sequelize as unknown as {
            connectionManager: {
              getConnection(): Promise<object>
              destroyConnection(c: object): Promise<void>
            }
          }
        ).connectionManager
        await manager.destroyConnection(await manager.getConnection())
        const [rows] = await sequelize.query('select 1 as one')
        expect(rows).toEqual([{ one: 1 }])
        expect(emu.stats().accepted).toBe(2)
      } finally {
        await sequelize.close()
      }
    })
  },
)
