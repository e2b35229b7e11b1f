import { once } from 'node:events'
import { connect as connectTcp } from 'node:net'
import { connect as connectTls, type TLSSocket } from 'node:tls'
import { createTokenProvider } from '@rds-iam/core'
import { Pool as IamPool } from '@rds-iam/pg'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { BENCH_USER, MYSQL_URL, PG_URL, ROUNDS, SLOT_MS } from './bench-config.js'
import { startEmulatorChild } from './emulator-child.js'
import { compare, format, interleave, throughput } from './measure.js'
import type { BenchRow } from './report.js'

const CONCURRENCY = 8

/** Connections per second from CONCURRENCY workers for one slot. */
const rate = async (op: () => Promise<unknown>) => (await throughput(SLOT_MS, CONCURRENCY, op)).perSecond

const connectPg = async (config: pg.ClientConfig) => {
  const client = new pg.Client(config)
  await client.connect()
  await client.end()
}

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])

/** SSLRequest and a TLS handshake with the emulator, then hang up: the floor under any IAM login. */
async function tlsHandshakeOnly(port: number, ca: string): Promise<void> {
  const tls = await tlsConnect(port, ca)
  tls.destroy()
}

async function tlsConnect(port: number, ca: string): Promise<TLSSocket> {
  const socket = connectTcp(port, 'localhost')
  await once(socket, 'connect')
  socket.write(SSL_REQUEST)
  await once(socket, 'data')
  // A fresh `ca` per connection, as pg does, so client-side costs match the other rows.
  const tls = connectTls({ socket, servername: 'localhost', ca })
  await once(tls, 'secureConnect')
  return tls
}

/** A PostgreSQL StartupMessage (protocol 3.0) for `user` and `database`. */
export function startupMessage(user: string, database: string): Buffer {
  const body = Buffer.from(`user\0${user}\0database\0${database}\0\0`)
  const head = Buffer.alloc(8)
  head.writeInt32BE(8 + body.length, 0)
  head.writeInt32BE(196608, 4)
  return Buffer.concat([head, body])
}

/** A PasswordMessage carrying `password`. */
export function passwordMessage(password: string): Buffer {
  const body = Buffer.from(`${password}\0`)
  const head = Buffer.alloc(5)
  head.write('p', 0)
  head.writeInt32BE(4 + body.length, 1)
  return Buffer.concat([head, body])
}

/**
 * The same minimal client as `tlsHandshakeOnly`, plus the login: startup message, the token when
 * asked for a password, and hang up on the server's answer. The baseline and this subject then
 * differ only by what the emulator's front does (a full pg.Client also parses, builds Error
 * objects and emits events, on the same two cores).
 */
async function rawRefusedLogin(port: number, ca: string, token: string): Promise<void> {
  const tls = await tlsConnect(port, ca)
  try {
    tls.write(startupMessage(BENCH_USER, 'test'))
    const [ask] = (await once(tls, 'data')) as [Buffer]
    if (ask[0] !== 0x52 /* R */) throw new Error(`bench: expected an authentication request, got ${ask[0]}`)
    tls.write(passwordMessage(token))
    const [answer] = (await once(tls, 'data')) as [Buffer]
    if (answer[0] !== 0x45 /* E */) throw new Error('bench: a forged token was not refused')
  } finally {
    tls.destroy()
  }
}

export async function postgresConnectionBench(): Promise<BenchRow[]> {
  const emu = await startEmulatorChild('postgres', PG_URL)
  try {
    const user = BENCH_USER
    const iam = { region: emu.region, credentials: emu.credentials[0]! }
    const provider = createTokenProvider({ hostname: 'localhost', port: emu.port, username: user, ...iam })
    const viaEmulator = { host: 'localhost', port: emu.port, user, database: 'test', ssl: { ca: emu.ca } }

    // The emulator's own share: TLS handshake plus SigV4 verification, without an upstream backend
    // (PostgreSQL forks a process per connection, which bounds every figure that includes it).
    const forged = createTokenProvider({
      hostname: 'localhost',
      port: emu.port,
      username: user,
      region: emu.region,
      credentials: { accessKeyId: iam.credentials.accessKeyId, secretAccessKey: 'not-the-secret' },
    })
    const forgedToken = await forged.getToken()
    // Same emulator, same TLS: a token fetched once and passed as a plain string (what a hand-written
    // hook does) against the adapter, which asks the shared provider on every new connection.
    const staticToken = await provider.getToken()

    // The client (pg builds a TLS context and checks the certificate per connection) shares the two
    // cores with the emulator, so also report what one emulator CPU-second can carry.
    let iamCpuMicros = 0
    let iamCompleted = 0
    // Emulator CPU per connection for the front-only and TLS-only subjects: it says how much of the
    // gap between them is the emulator's own work and how much the client's (both share 2 cores).
    const front = { micros: 0, completed: 0 }
    const handshake = { micros: 0, completed: 0 }
    const cpuRate = async (acc: { micros: number; completed: number }, op: () => Promise<unknown>) => {
      const before = await emu.cpuMicros()
      const r = await throughput(SLOT_MS, CONCURRENCY, op)
      acc.micros += (await emu.cpuMicros()) - before
      acc.completed += r.completed
      return r.perSecond
    }
    const connects = await interleave(ROUNDS, {
      direct: () => rate(() => connectPg({ connectionString: PG_URL })),
      iamConnect: async () => {
        const cpuBefore = await emu.cpuMicros()
        const r = await throughput(SLOT_MS, CONCURRENCY, async () =>
          connectPg({ ...viaEmulator, password: await provider.getToken() }),
        )
        iamCpuMicros += (await emu.cpuMicros()) - cpuBefore
        iamCompleted += r.completed
        return r.perSecond
      },
      verifyOnly: () => cpuRate(front, () => rawRefusedLogin(emu.port, emu.ca, forgedToken)),
      tlsOnly: () => cpuRate(handshake, () => tlsHandshakeOnly(emu.port, emu.ca)),
      verifyPgClient: () =>
        rate(() =>
          connectPg({ ...viaEmulator, password: forgedToken }).then(
            () => {
              throw new Error('bench: a forged token was accepted')
            },
            (err: { code?: string }) => {
              if (err.code !== '28000') throw err
            },
          ),
        ),
      staticConnect: () => rate(() => connectPg({ ...viaEmulator, password: staticToken })),
      adapterConnect: () =>
        rate(async () => {
          const pool = new IamPool({ ...viaEmulator, max: 1, iam })
          await pool.query('select 1')
          await pool.end()
        }),
    })
    const direct = { perSecond: connects.direct.median }
    const iamConnect = { perSecond: connects.iamConnect.median }
    const cpuPerConnection = iamCpuMicros / iamCompleted
    const verifyOnly = { perSecond: connects.verifyOnly.median }
    const verifyPgClient = { perSecond: connects.verifyPgClient.median }
    const tlsOnly = { perSecond: connects.tlsOnly.median }
    const staticConnect = { perSecond: connects.staticConnect.median }
    const adapterConnect = { perSecond: connects.adapterConnect.median }

    const plainPool = new pg.Pool({ ...viaEmulator, password: staticToken, max: 10 })
    const iamPool = new IamPool({ ...viaEmulator, max: 10, iam })
    const pooled = await interleave(ROUNDS, {
      plain: async () => (await throughput(SLOT_MS, 16, () => plainPool.query('select 1'))).perSecond,
      iam: async () => (await throughput(SLOT_MS, 16, () => iamPool.query('select 1'))).perSecond,
    })
    const plainQueries = { perSecond: pooled.plain.median }
    const iamQueries = { perSecond: pooled.iam.median }
    await Promise.all([plainPool.end(), iamPool.end()])
    const frontRatioCmp = compare(connects.verifyOnly, connects.tlsOnly, 'rate')
    const frontRatio = frontRatioCmp.ratio

    return [
      {
        name: 'emulator (postgres): new connections/s',
        subject: 'TLS + IAM-verified connect via emulator',
        subjectValue: `${format(iamConnect.perSecond)}/s`,
        baseline: 'plain connect straight to PostgreSQL 15',
        baselineValue: `${format(direct.perSecond)}/s`,
        ...compare(connects.iamConnect, connects.direct, 'rate'),
        goal: '≥ 1,000/s',
        met: iamConnect.perSecond >= 1000,
      },
      {
        name: 'emulator (postgres): CPU capacity',
        subject: 'IAM connections per emulator CPU-second',
        subjectValue: `${format(1e6 / cpuPerConnection)}/s (${format(cpuPerConnection / 1000, 2)} ms CPU each)`,
        baseline: 'plain connect straight to PostgreSQL 15',
        baselineValue: `${format(direct.perSecond)}/s`,
        ratio: 1e6 / cpuPerConnection / direct.perSecond,
        goal: '≥ 1,000/s',
        met: 1e6 / cpuPerConnection >= 1000,
      },
      {
        name: 'emulator (postgres): front only',
        subject: 'TLS + startup + SigV4 verification, refused (no upstream), minimal client',
        subjectValue: `${format(verifyOnly.perSecond)}/s (${format(front.micros / front.completed / 1000, 2)} ms emulator CPU each)`,
        baseline: 'TLS handshake alone with the same emulator',
        baselineValue: `${format(tlsOnly.perSecond)}/s (${format(handshake.micros / handshake.completed / 1000, 2)} ms emulator CPU each)`,
        ...frontRatioCmp,
        goal: '≥ 0.9×',
        met: frontRatio !== null && frontRatio >= 0.9,
      },
      {
        name: 'emulator (postgres): front only, via pg.Client',
        subject: 'the same refused login made by a full `pg.Client`',
        subjectValue: `${format(verifyPgClient.perSecond)}/s`,
        baseline: 'TLS handshake alone with the same emulator',
        baselineValue: `${format(tlsOnly.perSecond)}/s`,
        ...compare(connects.verifyPgClient, connects.tlsOnly, 'rate'),
      },
      {
        name: 'connect: adapter vs static password',
        subject: '`@rds-iam/pg` Pool, first query (token per connection)',
        subjectValue: `${format(adapterConnect.perSecond)}/s`,
        baseline: 'pg.Client with a fixed token string, same emulator',
        baselineValue: `${format(staticConnect.perSecond)}/s`,
        ...compare(connects.adapterConnect, connects.staticConnect, 'rate'),
      },
      {
        name: 'pooled queries',
        subject: '`@rds-iam/pg` Pool (max 10) `select 1`',
        subjectValue: `${format(iamQueries.perSecond)} q/s`,
        baseline: '`pg.Pool` (max 10), same emulator',
        baselineValue: `${format(plainQueries.perSecond)} q/s`,
        ...compare(pooled.iam, pooled.plain, 'rate'),
      },
    ]
  } finally {
    await emu.stop()
  }
}

export async function mysqlConnectionBench(): Promise<BenchRow[]> {
  const emu = await startEmulatorChild('mysql', MYSQL_URL)
  try {
    const user = BENCH_USER
    const provider = createTokenProvider({
      hostname: 'localhost',
      port: emu.port,
      username: user,
      region: emu.region,
      credentials: emu.credentials[0]!,
    })
    const upstream = new URL(MYSQL_URL)
    let iamCpuMicros = 0
    let iamCompleted = 0
    const connects = await interleave(ROUNDS, {
      direct: () =>
        rate(async () => {
          const conn = await mysql.createConnection({
            host: upstream.hostname,
            port: Number(upstream.port || 3306),
            user: decodeURIComponent(upstream.username),
            password: decodeURIComponent(upstream.password),
            database: upstream.pathname.slice(1),
          })
          await conn.end()
        }),
      iamConnect: async () => {
        const cpuBefore = await emu.cpuMicros()
        const r = await throughput(SLOT_MS, CONCURRENCY, async () => {
          const token = await provider.getToken()
          const conn = await mysql.createConnection({
            host: 'localhost',
            port: emu.port,
            user,
            database: upstream.pathname.slice(1),
            ssl: { ca: emu.ca },
            authPlugins: { mysql_clear_password: () => () => token },
          })
          await conn.end()
        })
        iamCpuMicros += (await emu.cpuMicros()) - cpuBefore
        iamCompleted += r.completed
        return r.perSecond
      },
    })
    const direct = { perSecond: connects.direct.median }
    const iamConnect = { perSecond: connects.iamConnect.median }
    const cpuPerConnection = iamCpuMicros / iamCompleted
    return [
      {
        name: 'emulator (mysql): new connections/s',
        subject: 'TLS + IAM-verified connect via emulator',
        subjectValue: `${format(iamConnect.perSecond)}/s`,
        baseline: 'plain connect straight to MariaDB 10.11',
        baselineValue: `${format(direct.perSecond)}/s`,
        ...compare(connects.iamConnect, connects.direct, 'rate'),
        goal: '≥ 1,000/s',
        met: iamConnect.perSecond >= 1000,
      },
      {
        name: 'emulator (mysql): CPU capacity',
        subject: 'IAM connections per emulator CPU-second',
        subjectValue: `${format(1e6 / cpuPerConnection)}/s (${format(cpuPerConnection / 1000, 2)} ms CPU each)`,
        baseline: 'plain connect straight to MariaDB 10.11',
        baselineValue: `${format(direct.perSecond)}/s`,
        ratio: 1e6 / cpuPerConnection / direct.perSecond,
        goal: '≥ 1,000/s',
        met: 1e6 / cpuPerConnection >= 1000,
      },
    ]
  } finally {
    await emu.stop()
  }
}
