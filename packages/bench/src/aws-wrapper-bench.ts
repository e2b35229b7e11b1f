// `@rds-iam/pg` and `@rds-iam/mysql2` against the official aws-advanced-nodejs-wrapper with only its
// IAM plugin, through the same emulator. The wrapper cannot reach AWS here and needs nothing from
// it: it signs locally with @aws-sdk/rds-signer for the host and port it connects to, with
// credentials from the default provider chain (the emulator's test key, put in AWS_* env vars),
// and `iamRegion` because `localhost` names no region.
import { Signer } from '@aws-sdk/rds-signer'
import { createTokenProvider } from '@rds-iam/core'
import {
  getTokenProvider as getMysqlTokenProvider,
  createConnection as iamMysqlConnection,
  createPool as iamMysqlPool,
} from '@rds-iam/mysql2/promise'
import { getTokenProvider, Client as IamClient, Pool as IamPool } from '@rds-iam/pg'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { BENCH_USER, POOL_MAX, POOL_WORKERS, ROUNDS, SLOT_MS } from './bench-config.js'
import type { EmulatorChild } from './emulator-child.js'
import { betterRatio, compare, format, interleave, sequentialMs, throughput } from './measure.js'
import type { BenchRow } from './report.js'

type Engine = 'postgres' | 'mysql'

/** The three subjects of one engine: ours, the AWS wrapper, and the plain driver with a fixed token. */
interface Subjects {
  pooledQuery: Record<'ours' | 'aws' | 'plain', () => Promise<unknown>>
  connect: Record<'ours' | 'aws' | 'plain', () => Promise<unknown>>
  close(): Promise<void>
}

/** Points the wrapper's default credential chain and region at the emulator's test key. */
function useEmulatorCredentials(emu: EmulatorChild): void {
  const key = emu.credentials[0]!
  process.env.AWS_ACCESS_KEY_ID = key.accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = key.secretAccessKey
  if (key.sessionToken) process.env.AWS_SESSION_TOKEN = key.sessionToken
  else delete process.env.AWS_SESSION_TOKEN
  process.env.AWS_REGION = emu.region
}

/**
 * The wrapper's config: only the `iam` plugin (its defaults add failover and monitoring plugins),
 * and the dialect named. The wrapper caches a detected dialect per host name without the port for
 * 24 h, so after the postgres rows it would treat the MySQL emulator on `localhost` as PostgreSQL
 * ("Unknown dialect code: 'pg'"); naming it is also what its steady state does after detection.
 */
function awsConfig(emu: EmulatorChild, user: string, extra: Record<string, unknown> = {}) {
  return {
    host: 'localhost',
    port: emu.port,
    user,
    database: 'test',
    plugins: 'iam',
    iamRegion: emu.region,
    ssl: { ca: emu.ca },
    ...extra,
  }
}

async function staticToken(emu: EmulatorChild): Promise<string> {
  return createTokenProvider({
    hostname: 'localhost',
    port: emu.port,
    username: BENCH_USER,
    region: emu.region,
    credentials: emu.credentials[0]!,
  }).getToken()
}

async function postgresSubjects(emu: EmulatorChild): Promise<Subjects> {
  const { AwsPGClient, AwsPgPoolClient } = await import('aws-advanced-nodejs-wrapper/pg')
  const iam = { region: emu.region, credentials: emu.credentials[0]!, maxNewConnectionsPerSecond: 0 }
  const via = { host: 'localhost', port: emu.port, user: BENCH_USER, database: 'test', ssl: { ca: emu.ca } }
  const token = await staticToken(emu)
  const ours = new IamPool({ ...via, max: POOL_MAX, iam })
  const aws = new AwsPgPoolClient(awsConfig(emu, BENCH_USER, { dialect: 'pg' }), { maxConnections: POOL_MAX })
  const plain = new pg.Pool({ ...via, password: token, max: POOL_MAX })
  const connectOnce = async (client: {
    connect(): Promise<unknown>
    query(q: string): Promise<unknown>
    end(): Promise<unknown>
  }) => {
    await client.connect()
    await client.query('select 1')
    await client.end()
  }
  return {
    pooledQuery: {
      ours: () => ours.query('select 1'),
      aws: () => aws.query('select 1'),
      plain: () => plain.query('select 1'),
    },
    connect: {
      ours: () => connectOnce(new IamClient({ ...via, iam })),
      aws: () => connectOnce(new AwsPGClient(awsConfig(emu, BENCH_USER, { dialect: 'pg' }))),
      plain: () => connectOnce(new pg.Client({ ...via, password: token })),
    },
    close: async () => {
      await Promise.all([ours.end(), aws.end(), plain.end()])
    },
  }
}

async function mysqlSubjects(emu: EmulatorChild): Promise<Subjects> {
  const { AwsMySQLClient, AwsMySQLPoolClient } = await import('aws-advanced-nodejs-wrapper/mysql')
  const iam = { region: emu.region, credentials: emu.credentials[0]!, maxNewConnectionsPerSecond: 0 }
  const via = { host: 'localhost', port: emu.port, user: BENCH_USER, database: 'test', ssl: { ca: emu.ca } }
  const token = await staticToken(emu)
  // mysql2 refuses mysql_clear_password unless told; the wrapper passes this through to mysql2.
  const cleartext = { enableCleartextPlugin: true }
  const ours = iamMysqlPool({ ...via, connectionLimit: POOL_MAX, iam })
  const aws = new AwsMySQLPoolClient(awsConfig(emu, BENCH_USER, { ...cleartext, dialect: 'mysql' }), {
    maxConnections: POOL_MAX,
  })
  const plain = mysql.createPool({ ...via, ...cleartext, password: token, connectionLimit: POOL_MAX })
  return {
    pooledQuery: {
      ours: () => ours.query('select 1'),
      aws: () => aws.query({ sql: 'select 1' }),
      plain: () => plain.query('select 1'),
    },
    connect: {
      ours: async () => {
        const conn = await iamMysqlConnection({ ...via, iam })
        await conn.query('select 1')
        await conn.end()
      },
      aws: async () => {
        const conn = new AwsMySQLClient(awsConfig(emu, BENCH_USER, { ...cleartext, dialect: 'mysql' }))
        await conn.connect()
        await conn.query({ sql: 'select 1' })
        await conn.end()
      },
      plain: async () => {
        const conn = await mysql.createConnection({ ...via, ...cleartext, password: token })
        await conn.query('select 1')
        await conn.end()
      },
    },
    close: async () => {
      await Promise.all([ours.end(), aws.end(), plain.end()])
    },
  }
}

const ENGINE_LABEL: Record<Engine, { ours: string; plain: string }> = {
  postgres: { ours: '`@rds-iam/pg`', plain: 'pg' },
  mysql: { ours: '`@rds-iam/mysql2`', plain: 'mysql2' },
}

/** Pooled throughput and sequential connect, ours vs the AWS wrapper (and both vs the plain driver). */
export async function awsWrapperBench(engine: Engine, emu: EmulatorChild): Promise<BenchRow[]> {
  useEmulatorCredentials(emu)
  const s = engine === 'postgres' ? await postgresSubjects(emu) : await mysqlSubjects(emu)
  const label = ENGINE_LABEL[engine]
  try {
    // Fill every pool to its 10 connections and warm every token cache before round 1.
    for (const op of Object.values(s.pooledQuery)) {
      await Promise.all(Array.from({ length: POOL_WORKERS * 2 }, op))
    }
    for (const op of Object.values(s.connect)) await op()
    const pooled = await interleave(ROUNDS, {
      ours: async () => (await throughput(SLOT_MS, POOL_WORKERS, s.pooledQuery.ours)).perSecond,
      aws: async () => (await throughput(SLOT_MS, POOL_WORKERS, s.pooledQuery.aws)).perSecond,
      plain: async () => (await throughput(SLOT_MS, POOL_WORKERS, s.pooledQuery.plain)).perSecond,
    })
    const connect = await interleave(ROUNDS, {
      ours: () => sequentialMs(SLOT_MS, s.connect.ours),
      aws: () => sequentialMs(SLOT_MS, s.connect.aws),
      plain: () => sequentialMs(SLOT_MS, s.connect.plain),
    })
    const pooledRatioCmp = compare(pooled.ours, pooled.aws, 'rate')
    const pooledRatio = pooledRatioCmp.ratio
    const connectRatioCmp = compare(connect.ours, connect.aws, 'time')
    const connectRatio = connectRatioCmp.ratio
    return [
      {
        name: `vs AWS wrapper (${engine}): pooled queries`,
        subject: `${label.ours} pool (max ${POOL_MAX}) \`select 1\``,
        subjectValue: `${format(pooled.ours.median)} q/s`,
        baseline: `aws-advanced-nodejs-wrapper pool client, \`iam\` plugin, same emulator`,
        baselineValue: `${format(pooled.aws.median)} q/s`,
        ...pooledRatioCmp,
        goal: '≥ 1.0×',
        met: pooledRatio !== null && pooledRatio >= 1,
      },
      {
        name: `AWS wrapper vs plain driver (${engine}): pooled queries`,
        subject: 'aws-advanced-nodejs-wrapper pool client, `iam` plugin',
        subjectValue: `${format(pooled.aws.median)} q/s`,
        baseline: `plain ${label.plain} pool, fixed token, same emulator`,
        baselineValue: `${format(pooled.plain.median)} q/s`,
        ...compare(pooled.aws, pooled.plain, 'rate'),
      },
      {
        name: `vs AWS wrapper (${engine}): sequential connect`,
        subject: `${label.ours}: new connection + \`select 1\` + end`,
        subjectValue: `${format(connect.ours.median, 2)} ms`,
        baseline: 'aws-advanced-nodejs-wrapper client, `iam` plugin (cached token)',
        baselineValue: `${format(connect.aws.median, 2)} ms`,
        ...connectRatioCmp,
        goal: '≥ 1.0×',
        met: connectRatio !== null && connectRatio >= 1,
      },
      {
        name: `AWS wrapper vs plain driver (${engine}): sequential connect`,
        subject: 'aws-advanced-nodejs-wrapper client, `iam` plugin',
        subjectValue: `${format(connect.aws.median, 2)} ms`,
        baseline: `plain ${label.plain} connection, fixed token, same emulator`,
        baselineValue: `${format(connect.plain.median, 2)} ms`,
        ...compare(connect.aws, connect.plain, 'time'),
      },
      {
        name: `adapter vs plain driver (${engine}): pooled queries`,
        subject: `${label.ours} pool (max ${POOL_MAX}) \`select 1\``,
        subjectValue: `${format(pooled.ours.median)} q/s`,
        baseline: `plain ${label.plain} pool, fixed token, same emulator`,
        baselineValue: `${format(pooled.plain.median)} q/s`,
        ...compare(pooled.ours, pooled.plain, 'rate'),
      },
      {
        name: `adapter vs plain driver (${engine}): sequential connect`,
        subject: `${label.ours}: new connection + \`select 1\` + end`,
        subjectValue: `${format(connect.ours.median, 2)} ms`,
        baseline: `plain ${label.plain} connection, fixed token, same emulator`,
        baselineValue: `${format(connect.plain.median, 2)} ms`,
        ...compare(connect.ours, connect.plain, 'time'),
      },
    ]
  } finally {
    await s.close()
  }
}

/**
 * 1,000 first queries at once on a cold pool: `@rds-iam/pg` signs once (single-flight), the AWS
 * wrapper signs per connect attempt until its cache holds a token. Signings are counted where they
 * happen: our provider's `stats()`, and calls to the `Signer` the wrapper imports (the same module
 * instance as ours, checked by the count being > 0).
 */
export async function coldStormBench(engine: Engine, emu: EmulatorChild): Promise<BenchRow> {
  useEmulatorCredentials(emu)
  const callers = 1000
  // Fresh user names: both token caches (ours is process-wide, the wrapper's is a static Map) are
  // keyed by user, so neither has a token for them yet.
  const oursUser = `bench_storm_ours_${engine}_${process.pid}`
  const awsUser = `bench_storm_aws_${engine}_${process.pid}`
  const via = { host: 'localhost', port: emu.port, database: 'test', ssl: { ca: emu.ca } }
  const iam = { region: emu.region, credentials: emu.credentials[0]! }
  let ours: { query(sql: string): Promise<unknown>; end(): Promise<void>; signed(): number }
  let aws: { query(sql: string): Promise<unknown>; end(): Promise<void> }
  if (engine === 'postgres') {
    const { AwsPgPoolClient } = await import('aws-advanced-nodejs-wrapper/pg')
    const pool = new IamPool({ ...via, user: oursUser, max: POOL_MAX, iam })
    ours = {
      query: (sql) => pool.query(sql),
      end: () => pool.end(),
      signed: () => getTokenProvider(pool)?.stats().signed ?? Number.NaN,
    }
    const wrapper = new AwsPgPoolClient(awsConfig(emu, awsUser, { dialect: 'pg' }), {
      maxConnections: POOL_MAX,
    })
    aws = { query: (sql) => wrapper.query(sql), end: () => wrapper.end() }
  } else {
    const { AwsMySQLPoolClient } = await import('aws-advanced-nodejs-wrapper/mysql')
    const pool = iamMysqlPool({ ...via, user: oursUser, connectionLimit: POOL_MAX, iam })
    ours = {
      query: (sql) => pool.query(sql),
      end: () => pool.end(),
      signed: () => getMysqlTokenProvider(pool.pool)?.stats().signed ?? Number.NaN,
    }
    const wrapper = new AwsMySQLPoolClient(
      awsConfig(emu, awsUser, { enableCleartextPlugin: true, dialect: 'mysql' }),
      { maxConnections: POOL_MAX },
    )
    aws = { query: (sql) => wrapper.query({ sql }), end: () => wrapper.end() }
  }

  const storm = async (op: () => Promise<unknown>) => {
    const results = await Promise.allSettled(Array.from({ length: callers }, op))
    return results.filter((r) => r.status === 'rejected').length
  }
  try {
    const oursFailed = await storm(() => ours.query('select 1'))
    const oursSigned = ours.signed()

    let awsSigned = 0
    const original = Signer.prototype.getAuthToken
    Signer.prototype.getAuthToken = function (this: Signer, ...args: Parameters<Signer['getAuthToken']>) {
      awsSigned++
      return original.apply(this, args)
    }
    let awsFailed: number
    try {
      awsFailed = await storm(() => aws.query('select 1'))
    } finally {
      Signer.prototype.getAuthToken = original
    }
    return {
      name: `cold storm: 1,000 first queries (${engine})`,
      subject: `${ENGINE_LABEL[engine].ours} pool (max ${POOL_MAX}), cold`,
      subjectValue: `${oursSigned} signing(s), ${oursFailed} failed`,
      baseline: 'aws-advanced-nodejs-wrapper pool client, `iam` plugin, cold',
      baselineValue: `${awsSigned} signing(s), ${awsFailed} failed`,
      ratio: betterRatio(oursSigned, awsSigned, 'time'),
      goal: '1 signing',
      met: oursSigned === 1 && oursFailed === 0,
    }
  } finally {
    await Promise.all([ours.end(), aws.end()])
  }
}
