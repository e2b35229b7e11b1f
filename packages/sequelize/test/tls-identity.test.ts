import { lookup } from 'node:dns/promises'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { hostname } from 'node:os'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { selectedEngines, TEST_URLS } from '@rds-iam/testkit'
import mariadb from 'mariadb'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { RdsIamError, withIam } from '../src/index.js'
import { type HarnessDialect, SEQUELIZE_VERSIONS } from './sequelize-harness.js'

// A token is only sent over TLS whose certificate names the host connected to. This machine's own
// host name resolves to a local address but is not among the emulator certificate's names
// (localhost, 127.0.0.1, ::1): a forwarder on every local address takes connections to it to the
// emulator, so the chain verifies and only the name is wrong. Any login the emulator counts means
// a secret was sent before the name was checked.

const CASES: { dialect: HarnessDialect; engine: 'postgres' | 'mysql' }[] = [
  { dialect: 'postgres', engine: 'postgres' },
  { dialect: 'mysql', engine: 'mysql' },
]
const engines = new Set(selectedEngines(['postgres', 'mysql']))
const totalLogins = (emu: Emulator) =>
  emu.stats().accepted + Object.values(emu.stats().rejected).reduce((a, b) => a + b, 0)

async function forwardTo(emu: Emulator): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    const upstream = createConnection({ host: '127.0.0.1', port: emu.port })
    for (const s of [socket, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => {
        socket.destroy()
        upstream.destroy()
      })
    }
    socket.pipe(upstream).pipe(socket)
  })
  // Every address (dual-stack), so the host name reaches it whatever local address it resolves to.
  await new Promise<void>((resolve) => server.listen(0, resolve))
  const { port } = server.address() as { port: number }
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

const name = hostname()

describe('the host name used here is a local name the emulator certificate does not cover', () => {
  test(`${name} resolves to a local address and is not localhost`, async () => {
    expect(name.toLowerCase()).not.toBe('localhost')
    const { address } = await lookup(name)
    expect(address).toMatch(/^127\.|^::1$|^::ffff:127\./)
  })
})

for (const { dialect, engine } of CASES.filter((c) => engines.has(c.engine))) {
  describe(`${dialect} dialect: TLS host-name verification before the token`, () => {
    let emu: Emulator
    let forwarder: Awaited<ReturnType<typeof forwardTo>>
    beforeAll(async () => {
      emu = await startEmulator({ engine, upstream: TEST_URLS[engine] })
      forwarder = await forwardTo(emu)
    })
    afterAll(async () => {
      await forwarder?.close()
      await emu?.stop()
    })

    test(`a certificate that does not name ${name} is refused and no token is presented`, async () => {
      const sequelize = new SEQUELIZE_VERSIONS.latest(
        withIam({
          dialect,
          host: name,
          port: forwarder.port,
          username: 'app',
          database: 'test',
          logging: false,
          dialectOptions: { ssl: { ca: emu.ca } },
          iam: { region: emu.region, credentials: emu.credentials[0]!, retry: { maxAttempts: 1 } },
        }),
      )
      try {
        const error = (await sequelize.authenticate().then(
          () => undefined,
          (err: unknown) => err,
        )) as { message?: string; parent?: { code?: string } } | undefined
        expect(error).toBeDefined()
        expect(`${error?.parent?.code} ${error?.message}`).toMatch(
          /ERR_TLS_CERT_ALTNAME_INVALID|does not match certificate's altnames/i,
        )
        expect(totalLogins(emu)).toBe(0)
      } finally {
        await sequelize.close()
      }
    })
  })
}

// Why `dialect: 'mariadb'` is refused: against a MariaDB server the mariadb connector turns
// certificate checks off for the handshake and checks the certificate after the login. If a
// future connector stops doing that, this test fails and the refusal can be reconsidered.
describe.runIf(engines.has('mysql'))('the mariadb connector (why the mariadb dialect is refused)', () => {
  let emu: Emulator
  let forwarder: Awaited<ReturnType<typeof forwardTo>>
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'mysql', upstream: TEST_URLS.mysql })
    forwarder = await forwardTo(emu)
  })
  afterAll(async () => {
    await forwarder?.close()
    await emu?.stop()
  })

  test('sends the password to a server whose certificate names another host', async () => {
    const error = await mariadb
      .createConnection({
        host: name,
        port: forwarder.port,
        user: 'app',
        password: 'not-a-token',
        ssl: { ca: emu.ca },
        connectTimeout: 5000,
      })
      .then(
        async (conn) => {
          await conn.end()
          return undefined
        },
        (err: unknown) => err,
      )
    expect(error).toBeDefined()
    // The emulator was handed the password (and refused it as a token): it left the client
    // before the certificate's name was checked.
    expect(emu.stats().rejected.InvalidToken).toBe(1)
  })
})

// iam.insecure lets a token go without TLS (local testing); RDS PostgreSQL still refuses that with
// 28000 "no encryption", which must read as a TLS problem, not as a bad token to retry.
describe.runIf(engines.has('postgres'))('postgres dialect: insecure without TLS against RDS', () => {
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'postgres', upstream: TEST_URLS.postgres })
  })
  afterAll(() => emu?.stop())

  test('the pg_hba "no encryption" refusal is RDS_IAM_INSECURE_TRANSPORT after one attempt', async () => {
    const sequelize = new SEQUELIZE_VERSIONS.lowest(
      withIam({
        dialect: 'postgres',
        host: emu.host,
        port: emu.port,
        username: 'app',
        database: 'test',
        logging: false,
        dialectOptions: { ssl: false },
        iam: { insecure: true, region: emu.region, credentials: emu.credentials[0]! },
      }),
    )
    try {
      const error = await sequelize.authenticate().then(
        () => undefined,
        (err: unknown) => err,
      )
      expect(error).toBeInstanceOf(RdsIamError)
      expect((error as RdsIamError).code).toBe('RDS_IAM_INSECURE_TRANSPORT')
      expect(emu.stats().protocolErrors).toBe(1)
      expect(emu.stats().accepted).toBe(0)
    } finally {
      await sequelize.close()
    }
  })
})

// Through a tunnel (connecting to 127.0.0.1, tokens signed for the RDS endpoint with
// iam.signingHostname) the certificate must be checked against the RDS endpoint's name, not
// against 127.0.0.1. The emulator's certificate names RDS_HOST (and localhost/127.0.0.1), and it
// accepts only tokens signed for RDS_HOST:3306 (MySQL) / RDS_HOST:5432 (PostgreSQL).
const RDS_HOST = 'db.example.us-east-1.rds.amazonaws.com'
const OTHER_HOST = 'db.other.us-east-1.rds.amazonaws.com'

for (const { dialect, engine } of CASES.filter((c) => engines.has(c.engine))) {
  const signingPort = engine === 'mysql' ? 3306 : 5432
  describe(`${dialect} dialect through a tunnel: the certificate is checked against iam.signingHostname`, () => {
    let emu: Emulator
    beforeAll(async () => {
      emu = await startEmulator({
        engine,
        upstream: TEST_URLS[engine],
        endpoint: `${RDS_HOST}:${signingPort}`,
      })
    })
    afterAll(() => emu?.stop())

    let n = 0
    const throughTunnel = (Sequelize: (typeof SEQUELIZE_VERSIONS)['latest'], signingHostname: string) =>
      new Sequelize(
        withIam({
          dialect,
          host: '127.0.0.1',
          port: emu.port,
          username: `tunnel_user_${n++}`,
          database: 'test',
          logging: false,
          pool: { max: 3, min: 0 },
          dialectOptions: { ssl: { ca: emu.ca } },
          iam: {
            region: emu.region,
            credentials: emu.credentials[0]!,
            signingHostname,
            signingPort,
            retry: { maxAttempts: 1 },
          },
        }),
      )

    for (const [version, Sequelize] of Object.entries(SEQUELIZE_VERSIONS)) {
      test(`sequelize ${version}: the RDS name on the certificate is accepted; the version probe and pooled connections log in`, async () => {
        const before = emu.stats().accepted
        const sequelize = throughTunnel(Sequelize, RDS_HOST)
        try {
          await sequelize.authenticate()
          const rows = await Promise.all(
            Array.from({ length: 3 }, () => sequelize.query('select 1 as one', { type: 'SELECT' as never })),
          )
          expect(rows).toEqual(Array.from({ length: 3 }, () => [{ one: 1 }]))
          // The probe plus at least one pooled connection, every one signed for RDS_HOST.
          expect(emu.stats().accepted - before).toBeGreaterThanOrEqual(2)
          expect(Object.values(emu.stats().rejected).reduce((a, b) => a + b, 0)).toBe(0)
        } finally {
          await sequelize.close()
        }
      })

      test(`sequelize ${version}: a certificate that does not name iam.signingHostname is refused before any token`, async () => {
        const before = totalLogins(emu)
        const sequelize = throughTunnel(Sequelize, OTHER_HOST)
        try {
          const error = (await sequelize.authenticate().then(
            () => undefined,
            (err: unknown) => err,
          )) as { message?: string; parent?: { code?: string } } | undefined
          expect(`${error?.parent?.code} ${error?.message}`).toMatch(
            /ERR_TLS_CERT_ALTNAME_INVALID|does not match certificate's altnames/i,
          )
          expect(totalLogins(emu)).toBe(before)
        } finally {
          await sequelize.close()
        }
      })
    }
  })
}
