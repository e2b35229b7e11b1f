import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { selectedEngines, TEST_URLS } from '@rds-iam/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest'
import { getTokenProvider, PrismaMariaDbIam } from '../src/index.js'
import { loadPrismaClient } from './prisma-fixtures.js'

// Review finding (HIGH): the mariadb connector's `debug: true` (and any `logger.network`) hex-dumps
// every packet it writes, and the ClearPasswordAuth packet is the IAM token. The dump of every
// packet that may carry a credential is now replaced by one line saying what was left out.

/**
 * The bytes inside the connector's hex dumps (`| 38 00 00 00 03 73 65 6C  65 63 74 ...`), joined
 * per message: a token split over dump lines is whole again here, whatever the ASCII column shows.
 */
function dumpedBytes(message: string): string {
  const hex: string[] = []
  for (const line of message.split('\n')) {
    // 16 bytes a line, "XX " each, one extra space after the eighth; the ASCII column follows.
    const match = /^\| ((?:[0-9A-F]{2} {1,2}){1,16})/.exec(line)
    if (match) hex.push(...match[1]!.trim().split(/ +/))
  }
  return Buffer.from(hex.join(''), 'hex').toString('latin1')
}

/** Fails if any part of the token (or the key it was signed with) is in any of `texts`, as text or hex. */
function expectNoToken(token: string, texts: string[], accessKeyId: string): void {
  const signature = /X-Amz-Signature=([0-9a-f]+)/.exec(token)![1]!
  const sessionToken = decodeURIComponent(/X-Amz-Security-Token=([^&]+)/.exec(token)![1]!)
  const secrets = [
    token,
    signature,
    sessionToken,
    encodeURIComponent(sessionToken),
    // Any prefix of the token: a dump cut at debugLen still shows its start.
    token.slice(0, 40),
    'X-Amz-',
    accessKeyId,
  ]
  for (const haystack of texts) {
    for (const secret of secrets) {
      expect(haystack).not.toContain(secret)
      expect(haystack.toLowerCase()).not.toContain(Buffer.from(secret).toString('hex').toLowerCase())
    }
  }
}

describe.runIf(selectedEngines(['mysql']).length > 0)(
  'PrismaMariaDbIam: no mariadb logger ever receives the token',
  () => {
    let emu: Emulator
    let n = 0
    const PrismaClient = loadPrismaClient('mysql')
    beforeAll(async () => {
      // A session token makes the token longer and is its most sensitive part.
      emu = await startEmulator({
        engine: 'mysql',
        upstream: TEST_URLS.mysql,
        credentials: [
          {
            accessKeyId: 'ASIAPRISMADEBUG00001',
            secretAccessKey: 'prisma-debug-secret-access-key-000000000',
            sessionToken:
              'IQoJb3JpZ2luX2VjEPrismaMariaDbDebugSessionToken//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==',
          },
        ],
      })
    })
    afterAll(() => emu?.stop())
    afterEach(() => vi.restoreAllMocks())

    type Capture = { lines: string[]; log: (...args: unknown[]) => void }
    const capture = (): Capture => {
      const lines: string[] = []
      return { lines, log: (...args: unknown[]) => lines.push(args.map(String).join(' ')) }
    }

    const cases: [string, (c: Capture) => Record<string, unknown>][] = [
      [
        'debug: true (packet dumps go to console.log)',
        (c) => {
          vi.spyOn(console, 'log').mockImplementation(c.log)
          return { debug: true }
        },
      ],
      [
        'debug: true with debugLen 8192 and trace: true (whole packets dumped)',
        (c) => {
          vi.spyOn(console, 'log').mockImplementation(c.log)
          return { debug: true, debugLen: 8192, trace: true }
        },
      ],
      [
        'logger: { network, query, error, warning }',
        (c) => ({
          debugLen: 8192,
          logger: { network: c.log, query: c.log, error: c.log, warning: c.log },
        }),
      ],
      ['logger: a function (every category)', (c) => ({ debugLen: 8192, logger: c.log })],
    ]

    test.each(cases)('%s', async (_name, setup) => {
      const c = capture()
      const adapter = new PrismaMariaDbIam({
        host: emu.host,
        port: emu.port,
        user: `debug_${process.pid}_${n++}`,
        database: 'test',
        ssl: { ca: emu.ca },
        iam: { region: emu.region, credentials: emu.credentials[0]! },
        ...setup(c),
      })
      const prisma = new PrismaClient({ adapter })
      try {
        // One refusal first: the second login's packets are dumped too, and an error is logged.
        emu.faults.rejectNext(1)
        const rows = await prisma.$queryRawUnsafe<{ one: number }[]>('select 1 as one')
        expect(Number(rows[0]?.one)).toBe(1)
      } finally {
        await prisma.$disconnect()
      }
      const token = await getTokenProvider(adapter)!.getToken()
      expect(token).toContain('X-Amz-Security-Token=')

      const text = c.lines.join('\n')
      const bytes = c.lines.map(dumpedBytes).join('\n')
      // The dumps were really produced and decoded: the query packet is there, in clear.
      expect(text).toMatch(/==> conn:\S+ Query\(/)
      expect(bytes).toContain('select 1 as one')
      expectNoToken(token, [text, bytes], emu.credentials[0]!.accessKeyId)
      // What was left out is said, at least once per login (one refused, one accepted).
      expect(
        text.match(/\[rds-iam: not dumped, it may carry the IAM token\]/g)?.length ?? 0,
      ).toBeGreaterThanOrEqual(2)
    })

    test('conn.debug(fn) set later on one connection: the next login is filtered and not sent to fn', async () => {
      const pool = capture()
      const later = capture()
      const adapter = new PrismaMariaDbIam({
        host: emu.host,
        port: emu.port,
        user: `debug_${process.pid}_${n++}`,
        database: 'test',
        ssl: { ca: emu.ca },
        connectionLimit: 2,
        debugLen: 8192,
        logger: { network: pool.log },
        iam: { region: emu.region, credentials: emu.credentials[0]! },
      })
      await adapter.connect()
      try {
        const first = (await adapter.pool!.getConnection()) as unknown as {
          debug(fn: (msg: string) => void): void
          query(sql: string): Promise<unknown>
          release(): Promise<void>
        }
        // The connector's own runtime switch; it used to rewire the logger every connection shares.
        first.debug(later.log)
        await first.query('select 2 as two')
        // A second connection while the first is held: a new login.
        const second = await adapter.pool!.getConnection()
        await second.query('select 3 as three')
        await second.release()
        await first.release()
      } finally {
        await adapter.pool?.end()
      }
      const token = await getTokenProvider(adapter)!.getToken()
      const all = [...pool.lines, ...later.lines]
      expectNoToken(token, [all.join('\n'), all.map(dumpedBytes).join('\n')], emu.credentials[0]!.accessKeyId)
      // fn got the first connection's packets only; the second login went to the pool's logger.
      expect(later.lines.map(dumpedBytes).join('\n')).toContain('select 2 as two')
      expect(later.lines.join('\n')).not.toMatch(/ClearPasswordAuth|Handshake/)
      expect(pool.lines.map(dumpedBytes).join('\n')).toContain('select 3 as three')
      expect(pool.lines.join('\n').match(/ClearPasswordAuth\(0,\d+\) \[rds-iam: not dumped/g)).toHaveLength(2)
    })
  },
)
