// A small TypeORM app with IAM authentication through @rds-iam/typeorm, against @rds-iam/emulator
// in front of an embedded PostgreSQL (PGlite). Offline, no database server. Set
// RDS_IAM_DEMO_PG_URL=postgres://… to put a real PostgreSQL behind the emulator instead.
import { setTimeout as sleep } from 'node:timers/promises'
import { startEmulator } from '@rds-iam/emulator'
import { getTokenProvider, withIam } from '@rds-iam/typeorm'
import { DataSource, EntitySchema } from 'typeorm'

// EntitySchema keeps the example plain JavaScript (no decorators); decorated classes work the same.
const Order = new EntitySchema({
  name: 'Order',
  tableName: 'demo_orders',
  columns: {
    id: { type: Number, primary: true, generated: true },
    item: { type: String },
    status: { type: String, default: 'new' },
  },
})

class CreateOrders1700000000000 {
  name = 'CreateOrders1700000000000'
  async up(runner) {
    await runner.query(
      `create table demo_orders (id serial primary key, item text not null, status text not null default 'new')`,
    )
  }
  async down(runner) {
    await runner.query('drop table demo_orders')
  }
}

const upstream = process.env.RDS_IAM_DEMO_PG_URL || undefined
const emu = await startEmulator({ engine: 'postgres', ...(upstream ? { upstream } : {}) })
console.log(`RDS IAM emulator listening on ${emu.endpoint}, in front of ${upstream ?? 'an embedded PGlite'}`)

// Against real RDS the IAM part is `iam: true` (region from the hostname, credentials from the
// default AWS chain, TLS verified against the RDS CA bundle). The emulator has its own CA and key.
const dataSource = new DataSource(
  withIam({
    type: 'postgres',
    host: 'localhost',
    port: emu.port,
    username: 'demo_app',
    database: 'postgres',
    ssl: { ca: emu.ca },
    iam: { region: emu.region, credentials: emu.credentials[0] },
    entities: [Order],
    migrations: [CreateOrders1700000000000],
    migrationsRun: true,
    poolSize: 4,
    // Idle connections close after a second, so the pool logs in again later in this demo.
    extra: { idleTimeoutMillis: 1000 },
  }),
)

try {
  await dataSource.initialize()
  const runner = dataSource.createQueryRunner()
  await runner.connect()
  const tls = runner.databaseConnection.connection.stream
  console.log(`connected over TLS ${tls.getProtocol()}, certificate verified: ${tls.authorized}`)
  await runner.release()

  const applied = await dataSource.query('select name from migrations order by id')
  console.log(`migrations applied: ${applied.map((m) => m.name).join(', ')}`)

  const orders = dataSource.getRepository(Order)
  await orders.save([{ item: 'tea' }, { item: 'coffee' }, { item: 'cocoa' }])
  await dataSource.transaction(async (manager) => {
    await manager.update(Order, { item: 'tea' }, { status: 'shipped' })
    await manager.save(Order, { item: 'mate', status: 'shipped' })
  })
  const rolledBack = await dataSource
    .transaction(async (manager) => {
      await manager.save(Order, { item: 'never-stored' })
      throw new Error('payment declined')
    })
    .catch((err) => err.message)
  const all = await orders.find({ order: { id: 'ASC' } })
  console.log(
    `orders: ${all.map((o) => `${o.item} (${o.status})`).join(', ')}; a failed transaction rolled back (${rolledBack})`,
  )
  console.log(
    `tokens signed so far: ${getTokenProvider(dataSource).stats().signed} (the token is never printed)`,
  )

  // Fifteen minutes later, in effect: the emulator caps token age at 1 s, and the pool's idle
  // connections have closed, so the next query needs a new login.
  emu.faults.maxTokenAge(1)
  await sleep(2200)
  const [{ shipped }] = await dataSource.query(
    `select count(*)::int as shipped from demo_orders where status = 'shipped'`,
  )
  const stats = emu.stats()
  console.log(
    `after token expiry: ${shipped} shipped orders read on a new connection; tokens signed: ${getTokenProvider(dataSource).stats().signed}; ` +
      `emulator refused the aged token ${stats.rejected.ExpiredToken} time(s) and accepted ${stats.accepted} login(s) in all`,
  )
} finally {
  if (dataSource.isInitialized) await dataSource.destroy()
  await emu.stop()
}
