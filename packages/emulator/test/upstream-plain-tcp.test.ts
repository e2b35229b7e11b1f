import mysql from 'mysql2/promise'
import { afterEach, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../src/index.js'
import { iamOptions, MYSQL_URL, requireMysql } from './fixtures/mysql-env.js'
import { connectIam, PG_URL, requirePostgres } from './fixtures/pg-env.js'

const pgReachable = await requirePostgres(PG_URL)
const mysqlReachable = await requireMysql(MYSQL_URL)

// What the README promises users who check TLS from inside a session: the client-to-emulator hop
// is TLS, the emulator-to-database hop is plain TCP, so the database reports no TLS.
describe('the emulator-to-database hop is plain TCP', () => {
  let emu: Emulator | undefined
  afterEach(async () => {
    await emu?.stop()
    emu = undefined
  })

  it.skipIf(!pgReachable)(
    'postgres: pg_stat_ssl shows no TLS for a session through the emulator',
    async () => {
      emu = await startEmulator({ engine: 'postgres', upstream: PG_URL })
      const client = await connectIam(emu, 'postgres')
      try {
        const { rows } = await client.query('select ssl from pg_stat_ssl where pid = pg_backend_pid()')
        expect(rows).toEqual([{ ssl: false }])
      } finally {
        await client.end()
      }
    },
  )

  it.skipIf(!mysqlReachable)('mysql: Ssl_cipher is empty for a session through the emulator', async () => {
    emu = await startEmulator({ engine: 'mysql', upstream: MYSQL_URL, region: 'eu-west-1' })
    const conn = await mysql.createConnection(iamOptions(emu, 'plain_hop'))
    try {
      const [rows] = await conn.query("show status like 'Ssl_cipher'")
      expect(rows).toEqual([{ Variable_name: 'Ssl_cipher', Value: '' }])
    } finally {
      await conn.end()
    }
  })
})
