// Sequelize with IAM authentication through @rds-iam/sequelize, against @rds-iam/emulator in front of
// an embedded PostgreSQL (PGlite): a migration, writes, reads, transactions, and a token that
// expires while the app runs. Offline, no database server. RDS_IAM_DEMO_PG_URL=postgres://… puts a
// real PostgreSQL behind the emulator instead.
import { startEmulator } from '@rds-iam/emulator'
import { getTokenProvider, withIam } from '@rds-iam/sequelize'
import { DataTypes, Sequelize } from 'sequelize'

const upstream = process.env.RDS_IAM_DEMO_PG_URL
const emu = await startEmulator({ engine: 'postgres', ...(upstream ? { upstream } : {}) })
console.log(`RDS IAM emulator on ${emu.endpoint}, in front of ${upstream ?? 'an embedded PGlite'}`)

let tls
// Against real RDS the whole change is `withIam(...)` and `iam: true` (region from the hostname,
// credentials from the default AWS chain, TLS with the RDS CA bundle). The emulator has its own CA
// and test key, hence `ssl` and `iam` options here.
const sequelize = new Sequelize(
  withIam({
    dialect: 'postgres',
    host: 'localhost',
    port: emu.port,
    username: 'demo_app',
    database: 'postgres',
    dialectOptions: { ssl: { ca: emu.ca } },
    pool: { max: 3 },
    logging: false,
    // A plain Sequelize connection hook, to show what the connection is: pg's TLS socket.
    hooks: {
      afterConnect: (connection) => {
        tls ??= connection.connection.stream
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
        'demo_products',
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
        'demo_orders',
        {
          id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
          product_id: {
            type: DataTypes.INTEGER,
            allowNull: false,
            references: { model: 'demo_products', key: 'id' },
          },
          qty: { type: DataTypes.INTEGER, allowNull: false },
        },
        { transaction },
      ),
  },
]

async function migrate() {
  const qi = sequelize.getQueryInterface()
  await sequelize.query('create table if not exists "SequelizeMeta" (name varchar(255) primary key)')
  const [done] = await sequelize.query('select name from "SequelizeMeta"')
  const applied = []
  for (const m of migrations) {
    if (done.some((row) => row.name === m.name)) continue
    await sequelize.transaction(async (transaction) => {
      await m.up(qi, transaction)
      await sequelize.query('insert into "SequelizeMeta" (name) values (?)', {
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
    tableName: 'demo_products',
    timestamps: false,
  },
)
const Order = sequelize.define(
  'Order',
  { qty: DataTypes.INTEGER },
  { tableName: 'demo_orders', timestamps: false },
)
Order.belongsTo(Product, { foreignKey: 'product_id' })

try {
  const applied = await migrate()
  console.log(`TLS: ${tls.encrypted ? 'on' : 'off'}, certificate verified: ${tls.authorized}`)
  console.log(`migrations applied: ${applied.join(', ') || 'none (already up to date)'}`)

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
  console.log(`orders: ${await Order.count()}; stock ${JSON.stringify(stock)}; rolled back: ${refused}`)

  const provider = getTokenProvider(sequelize)
  console.log(
    `tokens signed: ${provider.stats().signed}; emulator accepted ${emu.stats().accepted} IAM login(s)`,
  )

  // Fifteen minutes later, in effect: the emulator caps token age at 1 s, and a failover closes
  // every connection, so the same Sequelize instance must log in again with a new token.
  emu.faults.maxTokenAge(1)
  await new Promise((resolve) => setTimeout(resolve, 2100))
  emu.faults.dropConnections()
  while (emu.stats().open > 0) await new Promise((resolve) => setTimeout(resolve, 20))
  await new Promise((resolve) => setTimeout(resolve, 200))
  const [[row]] = await sequelize.query('select count(*)::int as n from demo_orders')
  const { ExpiredToken } = emu.stats().rejected
  console.log(
    `after expiry + failover: ${row.n} order(s) read; the old token was refused (ExpiredToken ×${ExpiredToken}), a new one signed (tokens signed: ${provider.stats().signed})`,
  )
} finally {
  await sequelize.close()
  await emu.stop()
}
