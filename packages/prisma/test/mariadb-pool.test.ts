import { createRequire } from 'node:module'
import { setTimeout as sleep } from 'node:timers/promises'
import { inspect } from 'node:util'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { selectedEngines, startHangupServer, TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import {
  getRdsIamError,
  getTokenProvider,
  PrismaMariaDbIam,
  SUPPORTED_MARIADB_CONNECTOR_VERSIONS,
} from '../src/index.js'
import { holdMariaDb } from './mariadb-adapter.js'
import { loadPrismaClient } from './prisma-fixtures.js'

const require = createRequire(import.meta.url)
const adapterEntry = require.resolve('@prisma/adapter-mariadb')
const connector = createRequire(adapterEntry)('mariadb') as {
  createPool(config: object): { end(): Promise<void>; on(e: string, l: () => void): void }
}
const connectorVersion = (createRequire(adapterEntry)('mariadb/package.json') as { version: string }).version

// The mechanism PrismaMariaDbIam rests on is undocumented connector behaviour. This test fails,
// loudly and by name, the day a connector release changes it.
describe('mariadb connector: the stream() hook PrismaMariaDbIam relies on', () => {
  test('the connector in use is the tested version', () => {
    expect(connectorVersion).toBe(SUPPORTED_MARIADB_CONNECTOR_VERSIONS)
  })

  test('the connector files and pool methods the IAM pool subclasses exist (lib/pool.js)', () => {
    const lib = (file: string) => createRequire(adapterEntry)(`mariadb/lib/${file}`) as unknown
    const Pool = lib('pool.js') as { prototype: Record<string, unknown> }
    for (const method of [
      '_shouldCreateMoreConnections',
      '_initiateConnectionCreation',
      '_onConnectionCreationSuccess',
      '_createPoolConnection',
      '_onConnectionCreationError',
      '_scheduleRetryWithBackoff',
      'taskQueueSize',
      'idleConnections',
      'totalConnections',
    ]) {
      expect(typeof Pool.prototype[method], method).toBe('function')
    }
    expect(typeof lib('config/pool-options.js')).toBe('function')
    expect(typeof lib('connection-promise.js')).toBe('function')
  })

  test("stream() is called once per physical connection with `this` = that connection's own options copy", async () => {
    const server = await startHangupServer()
    const seen: Record<string, unknown>[] = []
    const poolOptions = {
      host: '127.0.0.1',
      port: server.port,
      user: 'probe',
      connectionLimit: 2,
      minimumIdle: 2,
    }
    const pool = connector.createPool({
      ...poolOptions,
      acquireTimeout: 2000,
      stream(this: Record<string, unknown>, callback: (err: Error | null) => void) {
        seen.push(this)
        this.password = `token-${seen.length}`
        callback(new Error('probe: no connection needed'))
      },
    })
    pool.on('error', () => {})
    try {
      for (let i = 0; i < 100 && seen.length < 2; i++) await sleep(20)
      expect(seen.length).toBeGreaterThanOrEqual(2)
      const [first, second] = seen as [Record<string, unknown>, Record<string, unknown>]
      expect(first.host).toBe('127.0.0.1')
      expect(first.port).toBe(server.port)
      expect(first.user).toBe('probe')
      // A copy per connection: a password set on one is not seen by the other or by the pool.
      expect(first).not.toBe(second)
      expect(first.password).toBe('token-1')
      expect(second.password).toBe('token-2')
      expect(server.connections()).toBe(0)
    } finally {
      await pool.end()
      await server.close()
    }
  })
})

describe.runIf(selectedEngines(['mysql']).length > 0)('PrismaMariaDbIam against the emulator', () => {
  let emu: Emulator
  let other: Emulator
  let n = 0
  const PrismaClient = loadPrismaClient('mysql')
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'mysql', upstream: TEST_URLS.mysql })
    // Only its CA is used: a certificate authority that did not sign `emu`'s certificate.
    other = await startEmulator({ engine: 'mysql', upstream: TEST_URLS.mysql })
  })
  afterAll(async () => {
    await emu?.stop()
    await other?.stop()
  })
  beforeEach(() => emu.faults.reset())
  const config = (over: Record<string, unknown> = {}) => ({
    host: emu.host,
    port: emu.port,
    user: `pool_${process.pid}_${n++}`,
    database: 'test',
    ssl: { ca: emu.ca },
    iam: { region: emu.region, credentials: emu.credentials[0]!, retry: { maxAttempts: 3 } },
    ...over,
  })

  test.each([
    ['a certificate from an unknown CA', () => ({ ssl: { ca: other.ca } })],
    [
      // The name checked is the signing host (as through a tunnel); the emulator's certificate
      // does not name it. (A `servername` for another host is refused at construction by core.)
      'a certificate for another host name',
      () => ({
        ssl: { ca: emu.ca },
        iam: {
          region: emu.region,
          credentials: emu.credentials[0]!,
          signingHostname: 'db.other.example.com',
        },
      }),
    ],
  ])('%s: the token is never sent (RDS_IAM_INSECURE_TRANSPORT)', async (_name, over) => {
    const before = emu.stats()
    const prisma = new PrismaClient({ adapter: new PrismaMariaDbIam(config(over())) })
    try {
      const error = await prisma.$queryRawUnsafe('select 1').catch((err: unknown) => err)
      expect(getRdsIamError(error)?.code).toBe('RDS_IAM_INSECURE_TRANSPORT')
      const after = emu.stats()
      expect(after.accepted - before.accepted).toBe(0)
      expect(Object.values(after.rejected).reduce((a, b) => a + b, 0)).toBe(
        Object.values(before.rejected).reduce((a, b) => a + b, 0),
      )
    } finally {
      await prisma.$disconnect()
    }
  })

  // Review finding: `iam.insecure` with `ssl: { rejectUnauthorized: false }` failed every query with
  // RDS_IAM_INSECURE_TRANSPORT. Node checks the host name only after the chain verified, so the
  // guard never saw a verified connection; the user's explicit opt-out now counts as allowed.
  test('iam.insecure + ssl.rejectUnauthorized false: logs in to a server whose CA is not trusted', async () => {
    const before = emu.stats()
    const base = config()
    const prisma = new PrismaClient({
      adapter: new PrismaMariaDbIam({
        ...base,
        // No `ca`: the emulator's CA is in no trust store, so the chain does not verify.
        ssl: { rejectUnauthorized: false },
        iam: { ...base.iam, insecure: true },
      }),
    })
    try {
      const rows = await prisma.$queryRawUnsafe<{ one: number }[]>('select 1 as one')
      expect(Number(rows[0]?.one)).toBe(1)
      expect(emu.stats().accepted - before.accepted).toBe(1)
    } finally {
      await prisma.$disconnect()
    }
  })

  test('iam.insecure does not switch off a verification the ssl option asks for (ca of another server)', async () => {
    const before = emu.stats()
    const base = config()
    const prisma = new PrismaClient({
      adapter: new PrismaMariaDbIam({ ...base, ssl: { ca: other.ca }, iam: { ...base.iam, insecure: true } }),
    })
    try {
      const error = await prisma.$queryRawUnsafe('select 1').catch((err: unknown) => err)
      expect(getRdsIamError(error)?.code).toBe('RDS_IAM_INSECURE_TRANSPORT')
      expect(emu.stats().accepted - before.accepted).toBe(0)
    } finally {
      await prisma.$disconnect()
    }
  })

  // Review finding: the URL form could not carry `iam` (no region, credentials, retry). `{ url, iam }`
  // takes the URL with everything else beside it.
  test('{ url, ssl, iam }: the URL form with IAM and pool options logs in', async () => {
    const { host, port, user, database, ...beside } = config({ connectionLimit: 2 })
    const adapter = new PrismaMariaDbIam({
      url: `mysql://${user}@${host}:${port}/${database}?connectTimeout=5000`,
      ...beside,
    })
    const prisma = new PrismaClient({ adapter })
    try {
      const before = emu.stats()
      const rows = await prisma.$queryRawUnsafe<{ db: string }[]>('select database() as db')
      expect(rows[0]?.db).toBe(database)
      // The emulator accepted a token signed for the URL's user, host and port.
      expect(emu.stats().accepted - before.accepted).toBe(1)
      const provider = getTokenProvider(adapter)!
      expect(provider.stats().signed).toBe(1)
      expect(provider.target).toMatchObject({ username: user, hostname: host, port, region: emu.region })
    } finally {
      await prisma.$disconnect()
    }
  })

  test('K < attempts rejections end in success, each attempt with a new token', async () => {
    const adapter = new PrismaMariaDbIam(config())
    const prisma = new PrismaClient({ adapter })
    try {
      const before = emu.stats()
      emu.faults.rejectNext(2)
      const rows = await prisma.$queryRawUnsafe<{ one: number }[]>('select 1 as one')
      expect(Number(rows[0]?.one)).toBe(1)
      expect(emu.stats().rejected.InvalidToken - before.rejected.InvalidToken).toBe(2)
      expect(getTokenProvider(adapter)!.stats().signed).toBeGreaterThanOrEqual(3)
    } finally {
      await prisma.$disconnect()
    }
  })

  test('after forced expiry a new connection gets a new token; an open one keeps working', async () => {
    const adapter = new PrismaMariaDbIam(config())
    const prisma = new PrismaClient({ adapter })
    try {
      const held = await holdMariaDb(adapter)
      expect(await held.query('select 1 as one')).toHaveLength(1)
      const signed = getTokenProvider(adapter)!.stats().signed
      emu.faults.maxTokenAge(1)
      await sleep(2100)
      // New connections: the pool has to log in after the cap.
      const more = [await holdMariaDb(adapter), await holdMariaDb(adapter)]
      for (const conn of more) expect(await conn.query('select 2 as two')).toHaveLength(1)
      expect(await held.query('select 3 as three')).toHaveLength(1)
      for (let i = 0; i < 100 && emu.stats().rejected.ExpiredToken === 0; i++) await sleep(20)
      expect(emu.stats().rejected.ExpiredToken).toBeGreaterThanOrEqual(1)
      expect(getTokenProvider(adapter)!.stats().signed).toBeGreaterThan(signed)
      for (const conn of [held, ...more]) await conn.release()
    } finally {
      await prisma.$disconnect()
    }
  })

  test('connects over TLS and queries; one signing, one login (no spare); no token in util.inspect', async () => {
    const adapter = new PrismaMariaDbIam(config({ connectionLimit: 2 }))
    const prisma = new PrismaClient({ adapter })
    try {
      const before = emu.stats()
      const rows = await prisma.$queryRawUnsafe<{ one: number }[]>('select 1 as one')
      expect(Number(rows[0]?.one)).toBe(1)
      expect(getTokenProvider(adapter)!.stats().signed).toBe(1)
      // PrismaMariaDb's version probe and the query share the one connection the pool opened.
      expect(emu.stats().accepted - before.accepted).toBe(1)
      expect(adapter.pool?.pool.totalConnections()).toBe(1)
      const held = await holdMariaDb(adapter)
      const text = [
        inspect(prisma, { depth: 6 }),
        inspect(adapter, { depth: 8 }),
        inspect(held, { depth: 8 }),
      ].join('\n')
      for (const marker of ['X-Amz-Signature', 'X-Amz-Credential', emu.credentials[0]!.secretAccessKey]) {
        expect(text).not.toContain(marker)
      }
      await held.release()
    } finally {
      await prisma.$disconnect()
    }
  })

  test('many connections inside the cache window share one signing; exactly one login each', async () => {
    const adapter = new PrismaMariaDbIam(config({ connectionLimit: 6 }))
    const prisma = new PrismaClient({ adapter })
    try {
      const before = emu.stats()
      const held = []
      for (let i = 0; i < 5; i++) held.push(await holdMariaDb(adapter))
      for (const conn of held) expect(await conn.query('select 1 as one')).toHaveLength(1)
      expect(getTokenProvider(adapter)!.stats().signed).toBe(1)
      expect(emu.stats().accepted - before.accepted).toBe(5)
      for (const conn of held) await conn.release()
      // Released connections stay idle and serve the next callers; nothing opens in the background.
      for (let i = 0; i < 3; i++) await prisma.$queryRawUnsafe('select 1')
      expect(emu.stats().accepted - before.accepted).toBe(5)
    } finally {
      await prisma.$disconnect()
    }
  })
})
