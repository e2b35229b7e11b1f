// ORM adapters against the same ORM with a fixed valid token as a static password, through the
// same emulator in front of the local PostgreSQL: the ratio is what the adapter adds on top of the
// ORM, nothing else (same TLS, same emulator, same upstream, same token).
import { PrismaPg } from '@prisma/adapter-pg'
import { createTokenProvider } from '@rds-iam/core'
import { withIam as knexWithIam } from '@rds-iam/knex'
import { PrismaPgIam } from '@rds-iam/prisma'
import { withIam as sequelizeWithIam } from '@rds-iam/sequelize'
import { withIam as typeormWithIam } from '@rds-iam/typeorm'
import knex, { type Knex } from 'knex'
import type pg from 'pg'
import { QueryTypes, Sequelize, type Options as SequelizeOptions } from 'sequelize'
import { DataSource } from 'typeorm'
import { BENCH_USER, POOL_MAX, POOL_WORKERS, ROUNDS, SLOT_MS } from './bench-config.js'
import type { EmulatorChild } from './emulator-child.js'
import { compare, format, interleave, sequentialMs, throughput } from './measure.js'
import { loadPrismaClient } from './prisma-client.js'
import type { BenchRow } from './report.js'

/** One ORM set up twice: through its IAM adapter, and plain with a fixed token as password. */
interface OrmPair {
  label: string
  /** How the baseline is built, for the table. */
  baseline: string
  iam: () => OrmSide
  plain: () => OrmSide
}
interface OrmSide {
  pooledQuery(): Promise<unknown>
  newConnection(): Promise<unknown>
  close(): Promise<void>
}

export async function ormBench(emu: EmulatorChild): Promise<BenchRow[]> {
  const credentials = emu.credentials[0]!
  // The client-side limiter (default 100 new logins/s) is a deliberate ceiling, not overhead: off,
  // so the connect rows compare work done per connection.
  const iam = { region: emu.region, credentials, maxNewConnectionsPerSecond: 0 }
  const token = await createTokenProvider({
    hostname: 'localhost',
    port: emu.port,
    username: BENCH_USER,
    region: emu.region,
    credentials,
  }).getToken()
  const target = { host: 'localhost', port: emu.port, database: 'test' }
  const ssl = { ca: emu.ca }
  const PrismaClient = await loadPrismaClient()

  const pairs: OrmPair[] = [
    {
      label: '`@rds-iam/knex`',
      baseline: 'knex, static token password',
      iam: () =>
        knexSide((max) =>
          knex(
            knexWithIam({
              client: 'pg',
              connection: { ...target, user: BENCH_USER, ssl, iam },
              pool: { min: 0, max },
            }) as Knex.Config,
          ),
        ),
      plain: () =>
        knexSide((max) =>
          knex({
            client: 'pg',
            connection: { ...target, user: BENCH_USER, password: token, ssl },
            pool: { min: 0, max },
          }),
        ),
    },
    {
      label: '`@rds-iam/sequelize`',
      baseline: 'Sequelize, static token password',
      iam: () =>
        sequelizeSide(
          (max) =>
            sequelizeWithIam({
              dialect: 'postgres',
              ...target,
              username: BENCH_USER,
              dialectOptions: { ssl },
              logging: false,
              pool: { max, min: 0 },
              iam,
              // @rds-iam/sequelize is typed against its own (lowest supported) sequelize copy.
            }) as unknown as SequelizeOptions,
        ),
      plain: () =>
        sequelizeSide((max) => ({
          dialect: 'postgres',
          ...target,
          username: BENCH_USER,
          password: token,
          dialectOptions: { ssl },
          logging: false,
          pool: { max, min: 0 },
        })),
    },
    {
      label: '`@rds-iam/typeorm`',
      baseline: 'TypeORM DataSource, static token password',
      iam: () =>
        typeormSide((max) =>
          typeormWithIam({ type: 'postgres', ...target, username: BENCH_USER, ssl, poolSize: max, iam }),
        ),
      plain: () =>
        typeormSide((max) => ({
          type: 'postgres',
          ...target,
          username: BENCH_USER,
          password: token,
          ssl,
          poolSize: max,
        })),
    },
    {
      label: '`@rds-iam/prisma` (`PrismaPgIam`)',
      baseline: '`PrismaPg`, static token password',
      iam: () =>
        prismaSide(PrismaClient, (max) => new PrismaPgIam({ ...target, user: BENCH_USER, ssl, max, iam })),
      plain: () =>
        prismaSide(
          PrismaClient,
          (max) => new PrismaPg({ ...target, user: BENCH_USER, password: token, ssl, max } as pg.PoolConfig),
        ),
    },
  ]

  // One ORM at a time, its two sides interleaved in rounds: both pools open together hold 2 × 10
  // connections, which the shared PostgreSQL (max_connections 100) can spare; all eight would not.
  const rows: BenchRow[] = []
  const connectRows: BenchRow[] = []
  // RDS_IAM_BENCH_ORMS=knex,prisma narrows the run while working on one adapter.
  const only = process.env.RDS_IAM_BENCH_ORMS?.split(',')
  for (const p of pairs.filter((x) => !only || only.some((o) => x.label.includes(o)))) {
    const sides = { iam: p.iam(), plain: p.plain() }
    try {
      // Warm both pools (and the token cache) before the first round, so round 1 is no outlier.
      // A burst from every worker fills the pools to their 10 connections.
      await Promise.all([warm(sides.iam), warm(sides.plain)])
      await sides.iam.newConnection()
      await sides.plain.newConnection()
      const pooled = await interleave(ROUNDS, {
        iam: async () => (await throughput(SLOT_MS, POOL_WORKERS, () => sides.iam.pooledQuery())).perSecond,
        plain: async () =>
          (await throughput(SLOT_MS, POOL_WORKERS, () => sides.plain.pooledQuery())).perSecond,
      })
      const connect = await interleave(ROUNDS, {
        iam: () => sequentialMs(SLOT_MS, () => sides.iam.newConnection()),
        plain: () => sequentialMs(SLOT_MS, () => sides.plain.newConnection()),
      })
      const q = { iam: pooled.iam.median, plain: pooled.plain.median }
      const qRatioCmp = compare(pooled.iam, pooled.plain, 'rate')
      const qRatio = qRatioCmp.ratio
      rows.push({
        name: 'ORM pooled queries',
        subject: `${p.label} (pool ${POOL_MAX}) \`select 1\``,
        subjectValue: `${format(q.iam)} q/s`,
        baseline: `${p.baseline}, same emulator`,
        baselineValue: `${format(q.plain)} q/s`,
        ...qRatioCmp,
        goal: '≥ 0.98×',
        met: qRatio !== null && qRatio >= 0.98,
      })
      const ms = { iam: connect.iam.median, plain: connect.plain.median }
      const cRatioCmp = compare(connect.iam, connect.plain, 'time')
      const cRatio = cRatioCmp.ratio
      connectRows.push({
        name: 'ORM new connection (warm cache)',
        subject: `${p.label}: new connection + \`select 1\``,
        subjectValue: `${format(ms.iam, 2)} ms`,
        baseline: `${p.baseline}, same emulator`,
        baselineValue: `${format(ms.plain, 2)} ms`,
        ...cRatioCmp,
        goal: '≤ 1.05× time',
        // ≤ 1.05× the baseline's time is a ratio (baseline / subject) of at least 1 / 1.05.
        met: cRatio !== null && cRatio >= 1 / 1.05,
      })
    } finally {
      await Promise.all([sides.iam.close(), sides.plain.close()])
    }
  }
  return [...rows, ...connectRows]
}

const warm = (side: OrmSide) =>
  Promise.all(Array.from({ length: POOL_WORKERS * 2 }, () => side.pooledQuery()))

// Each side keeps two instances: one with a pool of POOL_MAX for the pooled rows, and one used only
// for new connections, so a connection measured as "new" is never an idle pooled one.

function knexSide(make: (max: number) => Knex): OrmSide {
  const pooled = make(POOL_MAX)
  const single = make(1)
  return {
    pooledQuery: () => pooled.raw('select 1'),
    // knex's own per-connection path: what its pool calls to create a connection (the IAM
    // dialect's override included), then a query on that raw pg client.
    newConnection: async () => {
      const client = single.client as {
        acquireRawConnection(): Promise<pg.Client>
        destroyRawConnection(c: pg.Client): Promise<void>
      }
      const conn = await client.acquireRawConnection()
      await conn.query('select 1')
      await client.destroyRawConnection(conn)
    },
    close: async () => {
      await Promise.all([pooled.destroy(), single.destroy()])
    },
  }
}

function sequelizeSide(make: (max: number) => SequelizeOptions): OrmSide {
  const pooled = new Sequelize(make(POOL_MAX))
  const single = new Sequelize(make(1))
  type Manager = {
    getConnection(): Promise<pg.Client>
    destroyConnection(c: pg.Client): Promise<void>
  }
  const manager = (single as unknown as { connectionManager: Manager }).connectionManager
  return {
    pooledQuery: () => pooled.query('select 1', { type: QueryTypes.SELECT }),
    // Sequelize's pool creates the connection (running beforeConnect hooks); destroying it after
    // the query leaves the pool empty, so the next call creates a new one.
    newConnection: async () => {
      const conn = await manager.getConnection()
      await conn.query('select 1')
      await manager.destroyConnection(conn)
    },
    close: async () => {
      await Promise.all([pooled.close(), single.close()])
    },
  }
}

function typeormSide(make: (max: number) => ConstructorParameters<typeof DataSource>[0]): OrmSide {
  const pooled = new DataSource(make(POOL_MAX))
  const single = new DataSource(make(1))
  const ready = Promise.all([pooled.initialize(), single.initialize()])
  return {
    pooledQuery: async () => {
      await ready
      return pooled.query('select 1')
    },
    // The DataSource's own pg pool (the IAM one for the adapter); release(true) destroys the
    // client, so the next connect opens a new connection.
    newConnection: async () => {
      await ready
      const pool = (single.driver as unknown as { master: pg.Pool }).master
      const conn = await pool.connect()
      await conn.query('select 1')
      conn.release(true)
    },
    close: async () => {
      await ready.catch(() => {})
      await Promise.all([pooled.destroy(), single.destroy()])
    },
  }
}

function prismaSide(
  PrismaClient: Awaited<ReturnType<typeof loadPrismaClient>>,
  makeAdapter: (max: number) => unknown,
): OrmSide {
  const pooled = new PrismaClient({ adapter: makeAdapter(POOL_MAX) })
  const single = new PrismaClient({ adapter: makeAdapter(1) })
  return {
    pooledQuery: () => pooled.$queryRawUnsafe('select 1'),
    // $disconnect() disposes the adapter's pool; the next query builds a new pool and connection.
    newConnection: async () => {
      await single.$queryRawUnsafe('select 1')
      await single.$disconnect()
    },
    close: async () => {
      await Promise.all([pooled.$disconnect(), single.$disconnect()])
    },
  }
}
