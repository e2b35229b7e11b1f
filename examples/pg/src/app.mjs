// The app behind examples/pg: node-postgres with IAM authentication through @rds-iam/pg. It takes
// a running emulator (or a real endpoint's host, port, CA and credentials) and a logger, so
// `main.mjs` runs it standalone and `pnpm demo` runs it beside the other examples on one emulator.
import { setTimeout as sleep } from 'node:timers/promises'
import { getTokenProvider, Pool } from '@rds-iam/pg'
import pg from 'pg'

/**
 * @param {{
 *   emu: import('@rds-iam/emulator').Emulator,
 *   log?: (line: string) => void,
 *   step?: <T>(label: string, work: () => Promise<T>) => Promise<T>,
 *   user?: string,
 * }} options
 * @returns {Promise<{ tokensSigned: number, tlsVerified: boolean }>}
 */
export async function run({ emu, log = console.log, step = (_label, work) => work(), user = 'demo_app' }) {
  // Against real RDS this is the whole change: `iam: true` (region from the hostname, credentials
  // from the default AWS chain, TLS with the RDS CA bundle). The emulator has its own CA and test key.
  const pool = new Pool({
    host: 'localhost',
    port: emu.port,
    user,
    database: 'postgres',
    max: 4,
    // Idle connections close after a second, so the pool logs in again after the token ages out.
    idleTimeoutMillis: 1000,
    ssl: { ca: emu.ca },
    iam: { region: emu.region, credentials: emu.credentials[0] },
  })
  let tls
  pool.on('connect', (client) => {
    tls ??= client.connection.stream
  })
  const provider = () => getTokenProvider(pool).stats()

  try {
    await pool.query('create table if not exists demo_pg_orders (id serial primary key, item text not null)')
    log(`TLS verified: ${tls.authorized === true}, certificate for ${tls.getPeerCertificate().subject.CN}`)
    await Promise.all(
      ['tea', 'coffee', 'cocoa', 'mate'].map((item) =>
        pool.query('insert into demo_pg_orders (item) values ($1)', [item]),
      ),
    )
    const { rows } = await pool.query(
      'select count(*)::int as orders, current_user, version() as server from demo_pg_orders',
    )
    const { signed, hits, inflightJoins } = provider()
    log(
      `${rows[0].orders} orders stored; tokens signed: ${signed} (cache hits ${hits}, joined ${inflightJoins}) for ${pool.totalCount} connection(s)`,
    )
    log(`server: ${rows[0].server.split(' on ')[0]}`)

    // What RDS says to a password that is not a valid token: the same PAM error, SQLSTATE 28000.
    const impostor = new pg.Client({
      host: 'localhost',
      port: emu.port,
      user,
      database: 'postgres',
      password: 'hunter2',
      ssl: { ca: emu.ca },
    })
    await impostor.connect().then(
      () => log('unexpected: a plain password was accepted'),
      (err) => log(`a plain password is refused like RDS refuses it: ${err.code} ${err.message}`),
    )

    // Fifteen minutes later, in effect: the emulator caps token age at 1 s and the idle connections
    // have closed, so the next query logs in again, and needs a new token.
    emu.faults.maxTokenAge(1)
    await step('letting the token age out (the emulator caps token age at 1 s)', async () => {
      await sleep(2100)
      while (pool.totalCount > 0) await sleep(20)
    })
    const expiredBefore = emu.stats().rejected.ExpiredToken
    const { rows: after } = await pool.query('select count(*)::int as orders from demo_pg_orders')
    const expired = emu.stats().rejected.ExpiredToken - expiredBefore
    log(
      `after token expiry: ${after[0].orders} orders read on a new connection; tokens signed: ${provider().signed}${expired > 0 ? ` (the aged token was refused ${expired}× and retried)` : ''}`,
    )
    return { tokensSigned: provider().signed, tlsVerified: tls.authorized === true }
  } finally {
    await pool.end()
  }
}
