// The demo behind `pnpm demo`: node-postgres with IAM authentication through @rds-iam/pg, against
// @rds-iam/emulator in front of an embedded PostgreSQL (PGlite). Offline, no database server.
// Set RDS_IAM_DEMO_PG_URL=postgres://… to put a real PostgreSQL behind the emulator instead.
import { startEmulator } from '@rds-iam/emulator'
import { getTokenProvider, Pool } from '@rds-iam/pg'
import pg from 'pg'

const upstream = process.env.RDS_IAM_DEMO_PG_URL
const emu = await startEmulator({ engine: 'postgres', ...(upstream ? { upstream } : {}) })
console.log(`RDS IAM emulator listening on ${emu.endpoint}, in front of ${upstream ?? 'an embedded PGlite'}`)

// Against real RDS this is the whole change: `iam: true` (region from the hostname, credentials from
// the default AWS chain, TLS with the RDS CA bundle). The emulator has its own CA and test key.
const pool = new Pool({
  host: 'localhost',
  port: emu.port,
  user: 'demo_app',
  database: 'postgres',
  max: 4,
  ssl: { ca: emu.ca },
  iam: { region: emu.region, credentials: emu.credentials[0] },
})

try {
  await pool.query('create table if not exists demo_orders (id serial primary key, item text not null)')
  await Promise.all(
    ['tea', 'coffee', 'cocoa', 'mate'].map((item) =>
      pool.query('insert into demo_orders (item) values ($1)', [item]),
    ),
  )
  const { rows } = await pool.query(
    'select count(*)::int as orders, current_user, version() as server from demo_orders',
  )
  const { signed, hits, inflightJoins } = getTokenProvider(pool).stats()
  console.log(
    `\n${rows[0].orders} orders stored; tokens signed: ${signed} (cache hits ${hits}, joined ${inflightJoins}) for ${pool.totalCount} connection(s)`,
  )
  console.log(`server: ${rows[0].server.split(' on ')[0]}`)

  const stats = emu.stats()
  console.log(`emulator: ${stats.accepted} login(s) accepted with verified SigV4 tokens, ${stats.open} open`)

  // What RDS says to a password that is not a valid token: the same PAM error, SQLSTATE 28000.
  const impostor = new pg.Client({
    host: 'localhost',
    port: emu.port,
    user: 'demo_app',
    database: 'postgres',
    password: 'hunter2',
    ssl: { ca: emu.ca },
  })
  await impostor.connect().then(
    () => console.log('unexpected: a plain password was accepted'),
    (err) => console.log(`a plain password is refused like RDS refuses it: ${err.code} ${err.message}`),
  )
  const rejected = Object.entries(emu.stats().rejected)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ×${n}`)
  console.log(`emulator log reason (never sent to the client): ${rejected.join(', ')}`)
} finally {
  await pool.end()
  await emu.stop()
}
