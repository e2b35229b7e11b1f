// mysql2 (promise API) with IAM authentication through @rds-iam/mysql2, against @rds-iam/emulator
// in front of a real MariaDB/MySQL (RDS_IAM_DEMO_MYSQL_URL, default the local MariaDB's test database).
import { startEmulator } from '@rds-iam/emulator'
import { createPool, getTokenProvider } from '@rds-iam/mysql2/promise'
import mysql from 'mysql2/promise'

const upstream = process.env.RDS_IAM_DEMO_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'
const emu = await startEmulator({ engine: 'mysql', upstream })
console.log(`RDS IAM emulator listening on ${emu.endpoint}, in front of ${new URL(upstream).host}`)

// Against real RDS: `iam: true` (region from the hostname, default AWS credentials, RDS CA bundle).
const pool = createPool({
  host: 'localhost',
  port: emu.port,
  user: 'demo_app',
  database: new URL(upstream).pathname.slice(1) || 'test',
  connectionLimit: 4,
  ssl: { ca: emu.ca },
  iam: { region: emu.region, credentials: emu.credentials[0] },
})
const table = `demo_orders_${process.pid}`

try {
  await pool.query(`create table ${table} (id int auto_increment primary key, item varchar(40) not null)`)
  await Promise.all(
    ['tea', 'coffee', 'cocoa', 'mate'].map((item) =>
      pool.execute(`insert into ${table} (item) values (?)`, [item]),
    ),
  )
  const [[row]] = await pool.query(`select count(*) as orders, version() as server from ${table}`)
  const { signed, hits, inflightJoins } = getTokenProvider(pool.pool).stats()
  console.log(
    `\n${row.orders} orders stored; tokens signed: ${signed} (cache hits ${hits}, joined ${inflightJoins})`,
  )
  console.log(`server: ${row.server}`)
  console.log(`emulator: ${emu.stats().accepted} login(s) accepted with verified SigV4 tokens`)

  // A plain password is refused the way RDS refuses it: 1045 (28000) Access denied.
  await mysql
    .createConnection({
      host: 'localhost',
      port: emu.port,
      user: 'demo_app',
      password: 'hunter2',
      ssl: { ca: emu.ca },
      authPlugins: { mysql_clear_password: () => () => 'hunter2' },
    })
    .then(
      async (conn) => {
        await conn.end()
        console.log('unexpected: a plain password was accepted')
      },
      (err) =>
        console.log(
          `a plain password is refused like RDS refuses it: ${err.errno} (${err.sqlState}) ${err.message}`,
        ),
    )
} finally {
  await pool.query(`drop table if exists ${table}`).catch(() => {})
  await pool.end()
  await emu.stop()
}
