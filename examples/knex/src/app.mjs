// The app behind examples/knex: Knex with IAM authentication through @rds-iam/knex. Migrations, a
// seed, writes, reads and transactions all run over IAM logins; then the tokens age out and every
// connection drops, and the same knex instance carries on with a new token. It takes a running
// emulator and a logger, so `main.mjs` runs it standalone and `pnpm demo` beside the other examples.
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { getTokenProvider, withIam } from '@rds-iam/knex'
import knex from 'knex'

const here = (path) => fileURLToPath(new URL(path, import.meta.url))

/**
 * @param {{
 *   emu: import('@rds-iam/emulator').Emulator,
 *   log?: (line: string) => void,
 *   step?: <T>(label: string, work: () => Promise<T>) => Promise<T>,
 *   user?: string,
 *   engine?: 'postgres' | 'mysql',
 *   database?: string,
 * }} options
 * @returns {Promise<{ tokensSigned: number, tlsVerified: boolean }>}
 */
export async function run({
  emu,
  log = console.log,
  step = (_label, work) => work(),
  user = 'demo_app',
  engine = 'postgres',
  database = engine === 'mysql' ? 'test' : 'postgres',
}) {
  // Against real RDS the whole change is `withIam(...)` and `iam: true` (region from the hostname,
  // credentials from the default AWS chain, TLS against the RDS CA bundle). The emulator has its own
  // CA and test key, so they are passed here.
  const db = knex(
    withIam({
      client: engine === 'mysql' ? 'mysql2' : 'pg',
      connection: {
        host: 'localhost',
        port: emu.port,
        user,
        database,
        ssl: { ca: emu.ca },
        iam: { region: emu.region, credentials: emu.credentials[0] },
      },
      pool: { min: 0, max: 4 },
      migrations: { directory: here('../migrations'), tableName: 'demo_knex_migrations' },
      seeds: { directory: here('../seeds') },
      // knex logs each connection a failover closed; this demo prints its own summary instead.
      log: { warn: () => {} },
    }),
  )
  const provider = getTokenProvider(db)

  try {
    // TLS: the driver verified the server certificate (chain and host name) before sending the token.
    const raw = await db.client.acquireConnection()
    // pg keeps its TLS socket at connection.stream; mysql2 (3.20+) replaces its own stream with it.
    const tls = engine === 'mysql' ? raw.stream : raw.connection.stream
    const tlsVerified = tls.authorized === true
    log(`TLS verified: ${tlsVerified}, certificate for ${tls.getPeerCertificate().subject.CN}`)
    await db.client.releaseConnection(raw)

    // A shared MySQL may still hold this demo's tables from a run that was killed half-way.
    if (engine === 'mysql') {
      for (const table of ['transfers', 'accounts', 'demo_knex_migrations', 'demo_knex_migrations_lock'])
        await db.schema.dropTableIfExists(table)
    }

    const [batch, applied] = await db.migrate.latest()
    log(`migrations: batch ${batch}, ${applied.length} applied`)
    await db.seed.run()
    await db('accounts').insert({ owner: 'carol', balance: 20 })

    // A transfer is one transaction: both balances change, or neither does.
    const transfer = (from, to, amount) =>
      db.transaction(async (trx) => {
        const { balance } = await trx('accounts').where({ owner: from }).first('balance')
        if (balance < amount) throw new Error(`${from} has ${balance}, cannot send ${amount}`)
        await trx('accounts').where({ owner: from }).decrement('balance', amount)
        await trx('accounts').where({ owner: to }).increment('balance', amount)
        await trx('transfers').insert({ from_owner: from, to_owner: to, amount })
      })
    await transfer('alice', 'bob', 30)
    await transfer('carol', 'alice', 500).catch((err) =>
      log(`transfer refused and rolled back: ${err.message}`),
    )

    const balances = async () =>
      (await db('accounts').orderBy('owner').select('owner', 'balance'))
        .map((r) => `${r.owner}=${r.balance}`)
        .join(' ')
    log(`balances: ${await balances()}`)
    const before = provider.stats()
    log(`tokens signed so far: ${before.signed} (the token itself is never printed)`)

    // Fifteen minutes later, in effect: the token is too old and a failover closes every connection.
    const expiredBefore = emu.stats().rejected.ExpiredToken
    emu.faults.maxTokenAge(1)
    await step('letting the token age out, then a failover drops every connection', async () => {
      await sleep(2100)
      emu.faults.dropConnections()
      // An idle app notices the closed sockets before its next request; knex then discards them.
      while (emu.stats().open > 0) await sleep(10)
      await sleep(200)
    })
    await transfer('bob', 'carol', 10)
    log(`after token expiry and a failover: balances ${await balances()}`)
    const after = provider.stats()
    const stats = emu.stats()
    log(
      `tokens signed: ${after.signed} (new since expiry: ${after.signed - before.signed}); emulator: ${stats.accepted} logins accepted, ${stats.rejected.ExpiredToken - expiredBefore} expired token refused and retried`,
    )
    const [rolledBack, reverted] = await db.migrate.rollback(undefined, true)
    log(`rollback: batch ${rolledBack}, ${reverted.length} reverted`)
    return { tokensSigned: after.signed, tlsVerified }
  } finally {
    await db.destroy()
  }
}
