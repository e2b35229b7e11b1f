// The app behind examples/mysql2: mysql2 (promise API) with IAM authentication through
// @rds-iam/mysql2. It takes a running emulator (engine mysql) and a logger, so `main.mjs` runs it
// standalone and `pnpm demo` runs it beside the other examples.
import { setTimeout as sleep } from 'node:timers/promises'
import { createPool, getTokenProvider } from '@rds-iam/mysql2/promise'
import mysql from 'mysql2/promise'

/**
 * @param {{
 *   emu: import('@rds-iam/emulator').Emulator,
 *   database?: string,
 *   log?: (line: string) => void,
 *   step?: <T>(label: string, work: () => Promise<T>) => Promise<T>,
 *   user?: string,
 * }} options
 * @returns {Promise<{ tokensSigned: number, tlsVerified: boolean }>}
 */
export async function run({
  emu,
  database = 'test',
  log = console.log,
  step = (_label, work) => work(),
  user = 'demo_app',
}) {
  // Against real RDS: `iam: true` (region from the hostname, default AWS credentials, RDS CA bundle).
  const pool = createPool({
    host: 'localhost',
    port: emu.port,
    user,
    database,
    connectionLimit: 4,
    ssl: { ca: emu.ca },
    iam: { region: emu.region, credentials: emu.credentials[0] },
  })
  const provider = () => getTokenProvider(pool.pool).stats()
  const table = `demo_orders_${process.pid}`

  try {
    await pool.query(`create table ${table} (id int auto_increment primary key, item varchar(40) not null)`)
    // mysql2 3.9 keeps its TLS socket private, so the proof is the config every connection used
    // (chain and host-name checks on) plus the emulator, which takes a token over TLS only.
    const { ssl } = pool.pool.config.connectionConfig
    const tlsVerified = ssl?.rejectUnauthorized === true && ssl?.verifyIdentity === true
    log(`TLS verified: ${tlsVerified} (rejectUnauthorized and verifyIdentity on; tokens only go over TLS)`)
    await Promise.all(
      ['tea', 'coffee', 'cocoa', 'mate'].map((item) =>
        pool.execute(`insert into ${table} (item) values (?)`, [item]),
      ),
    )
    const [[row]] = await pool.query(`select count(*) as orders, version() as server from ${table}`)
    const { signed, hits, inflightJoins } = provider()
    log(`${row.orders} orders stored; tokens signed: ${signed} (cache hits ${hits}, joined ${inflightJoins})`)
    log(`server: ${row.server}`)

    // A plain password is refused the way RDS refuses it: 1045 (28000) Access denied.
    await mysql
      .createConnection({
        host: 'localhost',
        port: emu.port,
        user,
        password: 'hunter2',
        ssl: { ca: emu.ca },
        authPlugins: { mysql_clear_password: () => () => 'hunter2' },
      })
      .then(
        async (conn) => {
          await conn.end()
          log('unexpected: a plain password was accepted')
        },
        (err) =>
          log(
            `a plain password is refused like RDS refuses it: ${err.errno} (${err.sqlState}) ${err.message}`,
          ),
      )

    // Fifteen minutes later, in effect: the token ages out and a failover closes every connection,
    // so the pool's next connection logs in again and needs a new token.
    const expiredBefore = emu.stats().rejected.ExpiredToken
    emu.faults.maxTokenAge(1)
    await step('letting the token age out, then a failover drops every connection', async () => {
      await sleep(2100)
      emu.faults.dropConnections()
      while (emu.stats().open > 0) await sleep(10)
      await sleep(200)
    })
    const [[again]] = await pool.query(`select count(*) as orders from ${table}`)
    const expired = emu.stats().rejected.ExpiredToken - expiredBefore
    log(
      `after token expiry and a failover: ${again.orders} orders read on a new connection; tokens signed: ${provider().signed}${expired > 0 ? ` (the aged token was refused ${expired}× and retried)` : ''}`,
    )
    return { tokensSigned: provider().signed, tlsVerified }
  } finally {
    await pool.query(`drop table if exists ${table}`).catch(() => {})
    await pool.end()
  }
}
