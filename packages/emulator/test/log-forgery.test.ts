import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { escapeControlCharacters, quote } from '../src/auth-gate.js'
import { type Emulator, startEmulator } from '../src/index.js'
import { iamOptions, loginFailure, MYSQL_URL, requireMysql } from './fixtures/mysql-env.js'
import { clientConfig, connectError, PG_URL, requirePostgres } from './fixtures/pg-env.js'

const pgReachable = await requirePostgres(PG_URL)
const mysqlReachable = await requireMysql(MYSQL_URL)

/** A user name that, logged raw, would write a second line claiming a successful login. */
const forged = (engine: string) =>
  `evil\n${engine}: IAM authentication succeeded for user "admin" from 127.0.0.1 (key AKIAFORGED)\r\u2028`

/** Every logged line is one line: no control character a client sent survives unescaped. */
function expectOneLineEach(lines: string[]): void {
  expect(lines.length).toBeGreaterThan(0)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  for (const line of lines) expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/)
  expect(lines.filter((l) => /^\w+: IAM authentication succeeded/.test(l))).toEqual([])
}

describe('log lines cannot be forged by client-chosen names', () => {
  let emu: Emulator | undefined
  const logs: string[] = []
  afterEach(async () => {
    await emu?.stop()
    emu = undefined
    logs.length = 0
  })

  it('escapes control characters and quotes', () => {
    expect(escapeControlCharacters('a\nb\r\tc\u0000\u001b[31m\u2028')).toBe(
      'a\\nb\\r\\tc\\x00\\x1b[31m\\u2028',
    )
    expect(quote('x" from 1.2.3.4 \\')).toBe('"x\\" from 1.2.3.4 \\\\"')
  })

  it.skipIf(!pgReachable)('postgres: a user name with a newline logs as one escaped line', async () => {
    emu = await startEmulator({ engine: 'postgres', upstream: PG_URL, log: (l) => logs.push(l) })
    const user = forged('postgres')
    const err = await connectError(clientConfig(emu, user, 'not-a-token'))
    expect(err.message).toContain('PAM authentication failed')
    // Without TLS the refusal is logged too, with user and database.
    const plain = new pg.Client({ host: emu.host, port: emu.port, user, database: user, password: 'x' })
    plain.on('error', () => {})
    await expect(plain.connect()).rejects.toThrow(/no encryption/)
    expectOneLineEach(logs)
    expect(logs[0]).toContain('for user "evil\\npostgres: IAM authentication succeeded for user \\"admin\\"')
  })

  it.skipIf(!mysqlReachable)('mysql: a user name with a newline logs as one escaped line', async () => {
    emu = await startEmulator({ engine: 'mysql', upstream: MYSQL_URL, log: (l) => logs.push(l) })
    const user = forged('mysql')
    const err = await loginFailure(mysql.createConnection(iamOptions(emu, user, () => 'not-a-token')))
    expect(err.errno).toBe(1045)
    const plain = await loginFailure(
      mysql.createConnection({
        host: '127.0.0.1',
        port: emu.port,
        user,
        password: 'x',
        connectTimeout: 5_000,
      }),
    )
    expect(plain.errno).toBe(1045)
    expectOneLineEach(logs)
  })
})
