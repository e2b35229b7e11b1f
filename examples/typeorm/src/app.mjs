// The app behind examples/typeorm: a small TypeORM app with IAM authentication through
// @rds-iam/typeorm. It takes a running emulator and a logger, so `main.mjs` runs it standalone and
// `pnpm demo` runs it beside the other examples on one emulator.
import { setTimeout as sleep } from 'node:timers/promises'
import { getTokenProvider, withIam } from '@rds-iam/typeorm'
import { DataSource, EntitySchema } from 'typeorm'

// EntitySchema keeps the example plain JavaScript (no decorators); decorated classes work the same.
const Order = new EntitySchema({
  name: 'Order',
  tableName: 'demo_typeorm_orders',
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
      `create table demo_typeorm_orders (id serial primary key, item text not null, status text not null default 'new')`,
    )
  }
  async down(runner) {
    await runner.query('drop table demo_typeorm_orders')
  }
}

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
  let tls
  // Against real RDS the IAM part is `iam: true` (region from the hostname, credentials from the
  // default AWS chain, TLS verified against the RDS CA bundle). The emulator has its own CA and key.
  const dataSource = new DataSource(
    withIam({
      type: engine,
      host: 'localhost',
      port: emu.port,
      username: user,
      database,
      ssl: { ca: emu.ca },
      iam: { region: emu.region, credentials: emu.credentials[0] },
      entities: [Order],
      migrations: [CreateOrders1700000000000],
      migrationsTableName: 'demo_typeorm_migrations',
      // A shared MySQL may hold this demo's tables from a killed run: clean up first, then migrate.
      migrationsRun: engine !== 'mysql',
      poolSize: 4,
      // Idle connections close after a second, so the pool logs in again later in this demo.
      extra: engine === 'mysql' ? {} : { idleTimeoutMillis: 1000 },
    }),
  )

  try {
    await dataSource.initialize()
    if (engine === 'mysql') {
      await dataSource.query('drop table if exists demo_typeorm_orders')
      await dataSource.query('drop table if exists demo_typeorm_migrations')
      await dataSource.runMigrations()
    }
    const runner = dataSource.createQueryRunner()
    await runner.connect()
    // pg keeps its TLS socket at connection.stream; mysql2 (3.20+) replaces its own stream with it.
    tls = engine === 'mysql' ? runner.databaseConnection.stream : runner.databaseConnection.connection.stream
    log(`connected over TLS ${tls.getProtocol()}, certificate verified: ${tls.authorized}`)
    await runner.release()

    const applied = await dataSource.query('select name from demo_typeorm_migrations order by id')
    log(`migrations applied: ${applied.map((m) => m.name).join(', ')}`)

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
    log(
      `orders: ${all.map((o) => `${o.item} (${o.status})`).join(', ')}; a failed transaction rolled back (${rolledBack})`,
    )
    log(`tokens signed so far: ${getTokenProvider(dataSource).stats().signed} (the token is never printed)`)

    // Fifteen minutes later, in effect: the emulator caps token age at 1 s, and the pool's idle
    // connections have closed, so the next query needs a new login.
    const expiredBefore = emu.stats().rejected.ExpiredToken
    emu.faults.maxTokenAge(1)
    await step('letting the token age out while the idle connections close', async () => {
      await sleep(2200)
      // mysql2's pool keeps idle connections open: a failover closes them here.
      if (engine === 'mysql') {
        emu.faults.dropConnections()
        while (emu.stats().open > 0) await sleep(10)
        await sleep(200)
      }
    })
    const [row] = await dataSource.query(
      `select count(*) as shipped from demo_typeorm_orders where status = 'shipped'`,
    )
    const shipped = Number(row.shipped)
    const stats = emu.stats()
    log(
      `after token expiry: ${shipped} shipped orders read on a new connection; tokens signed: ${getTokenProvider(dataSource).stats().signed}; ` +
        `emulator refused the aged token ${stats.rejected.ExpiredToken - expiredBefore} time(s) and accepted ${stats.accepted} login(s) in all`,
    )
    return { tokensSigned: getTokenProvider(dataSource).stats().signed, tlsVerified: tls.authorized === true }
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy()
  }
}
