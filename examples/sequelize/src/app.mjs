// The app behind examples/sequelize: Sequelize with IAM authentication through @rds-iam/sequelize:
// a migration, writes, reads, transactions, and a token that expires while the app runs. It takes a
// running emulator and a logger, so `main.mjs` runs it standalone and `pnpm demo` beside the others.
import { setTimeout as sleep } from 'node:timers/promises'
import { getTokenProvider, withIam } from '@rds-iam/sequelize'
import { DataTypes, Sequelize } from 'sequelize'

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
  // Against real RDS the whole change is `withIam(...)` and `iam: true` (region from the hostname,
  // credentials from the default AWS chain, TLS with the RDS CA bundle). The emulator has its own CA
  // and test key, hence `ssl` and `iam` options here.
  const sequelize = new Sequelize(
    withIam({
      dialect: engine,
      host: 'localhost',
      port: emu.port,
      username: user,
      database,
      dialectOptions: { ssl: { ca: emu.ca } },
      pool: { max: 3 },
      logging: false,
      // A plain Sequelize connection hook, to show what the connection is: pg's TLS socket.
      hooks: {
        afterConnect: (connection) => {
          // pg keeps its TLS socket at connection.stream; mysql2 (3.20+) replaces its own stream with it.
          tls ??= engine === 'mysql' ? connection.stream : connection.connection.stream
        },
      },
      iam: { region: emu.region, credentials: emu.credentials[0] },
    }),
  )

  // Migrations as sequelize-cli / umzug run them: in order, each recorded in SequelizeMeta once, each
  // in a transaction (every statement passes it: PGlite serves one open transaction at a time).
  const migrations = [
    {
      name: '20261201-create-products',
      up: (qi, transaction) =>
        qi.createTable(
          'demo_sequelize_products',
          {
            id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
            name: { type: DataTypes.STRING, allowNull: false, unique: true },
            stock: { type: DataTypes.INTEGER, allowNull: false },
          },
          { transaction },
        ),
    },
    {
      name: '20261201-create-orders',
      up: (qi, transaction) =>
        qi.createTable(
          'demo_sequelize_orders',
          {
            id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
            product_id: {
              type: DataTypes.INTEGER,
              allowNull: false,
              references: { model: 'demo_sequelize_products', key: 'id' },
            },
            qty: { type: DataTypes.INTEGER, allowNull: false },
          },
          { transaction },
        ),
    },
  ]

  async function migrate() {
    const qi = sequelize.getQueryInterface()
    const meta = qi.quoteIdentifier('SequelizeMeta')
    await sequelize.query(`create table if not exists ${meta} (name varchar(255) primary key)`)
    if (engine === 'mysql') {
      // A shared MySQL may still hold this demo's tables from a run that was killed half-way.
      await qi.dropTable('demo_sequelize_orders')
      await qi.dropTable('demo_sequelize_products')
      await sequelize.query(`delete from ${meta} where name in (?)`, {
        replacements: [migrations.map((m) => m.name)],
      })
    }
    const [done] = await sequelize.query(`select name from ${meta}`)
    const applied = []
    for (const m of migrations) {
      if (done.some((row) => row.name === m.name)) continue
      await sequelize.transaction(async (transaction) => {
        await m.up(qi, transaction)
        await sequelize.query(`insert into ${meta} (name) values (?)`, {
          replacements: [m.name],
          transaction,
        })
      })
      applied.push(m.name)
    }
    return applied
  }

  const Product = sequelize.define(
    'Product',
    { name: DataTypes.STRING, stock: DataTypes.INTEGER },
    {
      tableName: 'demo_sequelize_products',
      timestamps: false,
    },
  )
  const Order = sequelize.define(
    'Order',
    { qty: DataTypes.INTEGER },
    { tableName: 'demo_sequelize_orders', timestamps: false },
  )
  Order.belongsTo(Product, { foreignKey: 'product_id' })

  try {
    const applied = await migrate()
    log(`TLS: ${tls.encrypted ? 'on' : 'off'}, certificate verified: ${tls.authorized}`)
    log(`migrations applied: ${applied.join(', ') || 'none (already up to date)'}`)

    await Product.bulkCreate(
      [
        { name: 'tea', stock: 10 },
        { name: 'coffee', stock: 5 },
        { name: 'cocoa', stock: 2 },
      ],
      { ignoreDuplicates: true },
    )

    // A managed transaction: both writes or neither.
    const placeOrder = (name, qty) =>
      sequelize.transaction(async (transaction) => {
        const product = await Product.findOne({ where: { name }, transaction, lock: transaction.LOCK.UPDATE })
        if (product.stock < qty) throw new Error(`only ${product.stock} ${name} left`)
        await product.decrement('stock', { by: qty, transaction })
        await Order.create({ product_id: product.id, qty }, { transaction })
      })
    await placeOrder('tea', 1)
    const refused = await placeOrder('cocoa', 3).catch((err) => err.message)
    const stock = Object.fromEntries(
      (await Product.findAll({ order: [['id', 'ASC']] })).map((p) => [p.name, p.stock]),
    )
    log(`orders: ${await Order.count()}; stock ${JSON.stringify(stock)}; rolled back: ${refused}`)

    const provider = getTokenProvider(sequelize)
    log(`tokens signed: ${provider.stats().signed}; emulator accepted ${emu.stats().accepted} IAM login(s)`)

    // Fifteen minutes later, in effect: the emulator caps token age at 1 s, and a failover closes
    // every connection, so the same Sequelize instance must log in again with a new token.
    const expiredBefore = emu.stats().rejected.ExpiredToken
    emu.faults.maxTokenAge(1)
    await step('letting the token age out, then a failover drops every connection', async () => {
      await sleep(2100)
      emu.faults.dropConnections()
      while (emu.stats().open > 0) await sleep(20)
      await sleep(200)
    })
    const [[row]] = await sequelize.query('select count(*) as n from demo_sequelize_orders')
    const ExpiredToken = emu.stats().rejected.ExpiredToken - expiredBefore
    log(
      `after expiry + failover: ${Number(row.n)} order(s) read; the old token was refused (ExpiredToken ×${ExpiredToken}), a new one signed (tokens signed: ${provider.stats().signed})`,
    )
    return { tokensSigned: provider.stats().signed, tlsVerified: tls.authorized === true }
  } finally {
    await sequelize.close()
  }
}
