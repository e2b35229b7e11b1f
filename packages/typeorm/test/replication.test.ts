import { randomBytes } from 'node:crypto'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { selectedEngines, TEST_URLS } from '@rds-iam/testkit'
import type { DataSource, DataSourceOptions } from 'typeorm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { getTokenProviders, RdsIamError, withIam } from '../src/index.js'
import { loadTypeorm, TYPEORM_ALIASES } from './typeorm-versions.js'

// A primary and a replica are two endpoints: each must get tokens signed for its own host:port.
// Two emulators stand in for them; a token signed for the wrong one would be refused there
// (InvalidToken), so "accepted on both, rejected on neither" proves per-endpoint signing.
const engines = selectedEngines(['pglite', 'mysql']).map((e) => (e === 'mysql' ? 'mysql' : 'postgres'))

for (const engine of engines) {
  describe(`${engine}: replication`, () => {
    const key = {
      accessKeyId: `AKIAREPL${randomBytes(6).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
    }
    let primary: Emulator
    let replica: Emulator
    beforeAll(async () => {
      // PGlite per emulator for postgres (two separate databases, like a primary and a replica);
      // both MySQL emulators front the local MariaDB.
      const upstream = engine === 'mysql' ? TEST_URLS.mysql : undefined
      primary = await startEmulator({ engine, upstream, credentials: [key] })
      replica = await startEmulator({ engine, upstream, credentials: [key] })
    })
    afterAll(async () => {
      await primary?.stop()
      await replica?.stop()
    })

    for (const alias of ['typeorm', 'typeorm-1-latest'] as const) {
      const typeorm = loadTypeorm(alias)
      test(`typeorm@${typeorm.version}: the primary and the replica each get their own pool, provider and tokens`, async () => {
        const before = [primary.stats(), replica.stats()]
        const username = `rds_iam_app_repl_${randomBytes(4).toString('hex')}`
        const database = engine === 'mysql' ? 'test' : 'postgres'
        // Each postgres node takes its own `ssl`; TypeORM's MySQL driver would ignore a node's
        // (withIam refuses it), so mysql gets one top-level `ssl` below.
        const node = (emu: Emulator) => ({
          host: emu.host,
          port: emu.port,
          username,
          database,
          ...(engine === 'postgres' ? { ssl: { ca: emu.ca } } : {}),
        })
        const iam = { region: primary.region, credentials: key }
        const options =
          engine === 'mysql'
            ? withIam(
                {
                  type: 'mysql',
                  // TypeORM's MySQL driver reads `ssl` from the top level only; each emulator has its own CA.
                  ssl: { ca: [primary.ca, replica.ca] },
                  replication: { master: node(primary), slaves: [node(replica)] },
                  driver: typeorm.mysql2,
                  iam,
                },
                { typeormVersion: typeorm.version },
              )
            : withIam({
                type: 'postgres',
                replication: { master: node(primary), slaves: [node(replica)] },
                driver: typeorm.pg,
                iam,
              })
        const dataSource: DataSource = new typeorm.DataSource(options as unknown as DataSourceOptions)
        await dataSource.initialize()
        try {
          // Writes go to the primary; reads routed to the replica use its pool.
          expect(Number((await dataSource.query('select 1 as one'))[0].one)).toBe(1)
          const reader = dataSource.createQueryRunner('slave')
          try {
            expect(Number((await reader.query('select 2 as two'))[0].two)).toBe(2)
          } finally {
            await reader.release()
          }
          const { master, slaves } = getTokenProviders(dataSource)
          expect(master).toBeDefined()
          expect(slaves).toHaveLength(1)
          expect(slaves[0]).not.toBe(master)
          expect(master!.stats().signed).toBe(1)
          expect(slaves[0]!.stats().signed).toBe(1)
          ;[primary, replica].forEach((emu, i) => {
            const after = emu.stats()
            expect(after.accepted - before[i]!.accepted).toBeGreaterThanOrEqual(1)
            expect(rejected(after) - rejected(before[i]!)).toBe(0)
          })
        } finally {
          await dataSource.destroy()
        }
      })
    }

    if (engine === 'postgres') {
      for (const alias of TYPEORM_ALIASES) {
        const typeorm = loadTypeorm(alias)
        test(`typeorm@${typeorm.version}: a top-level ssl beside replication never reaches a node, so withIam refuses it`, async () => {
          const username = `rds_iam_app_repl_${randomBytes(4).toString('hex')}`
          const node = (emu: Emulator) => ({ host: emu.host, port: emu.port, username, database: 'postgres' })
          const iam = { region: primary.region, credentials: key }
          const replication = { master: node(primary), slaves: [node(replica)] }
          const ssl = { ca: [primary.ca, replica.ca] }
          // Control: the options withIam would build for nodes without `ssl`, with the top-level
          // `ssl` added afterwards. This TypeORM builds each node's pool from the node's own `ssl`
          // only, so the emulators' CA never arrives and the login fails with a raw certificate
          // error inside initialize(), untyped.
          const applied = withIam({ type: 'postgres', replication, driver: typeorm.pg, iam })
          const control = new typeorm.DataSource({ ...applied, ssl } as unknown as DataSourceOptions)
          const error = await control.initialize().then(
            () => control.destroy(),
            (err: unknown) => err,
          )
          expect(error).toBeInstanceOf(Error)
          expect(error).not.toBeInstanceOf(RdsIamError)
          expect((error as { code?: string }).code).toBe('SELF_SIGNED_CERT_IN_CHAIN')
          // The fix: the same options are refused when they are written, naming where `ssl` goes.
          expect(() => withIam({ type: 'postgres', ssl, replication, driver: typeorm.pg, iam })).toThrow(
            expect.objectContaining({
              code: 'RDS_IAM_INVALID_OPTIONS',
              hint: expect.stringMatching(
                /move `ssl` into `replication\.master` and each entry of `replication\.slaves`/,
              ),
            }),
          )
        })
      }
    }

    if (engine === 'mysql') {
      for (const alias of TYPEORM_ALIASES) {
        const typeorm = loadTypeorm(alias)
        test(`typeorm@${typeorm.version}: a node's own ssl never reaches its pool, so withIam refuses it`, async () => {
          const username = `rds_iam_app_repl_${randomBytes(4).toString('hex')}`
          const node = (emu: Emulator) => ({ host: emu.host, port: emu.port, username, database: 'test' })
          const iam = { region: primary.region, credentials: key }
          const injection = { typeormVersion: typeorm.version }
          const replication = {
            master: { ...node(primary), ssl: { ca: primary.ca } },
            slaves: [{ ...node(replica), ssl: { ca: replica.ca } }],
          }
          // Control: the options withIam would build for nodes without `ssl`, with each node's
          // `ssl` (its emulator's CA) added afterwards. This TypeORM gives every pool the top-level
          // `ssl` only, so the pools verify against the RDS bundle, the emulators' CA never
          // arrives and the login fails with a raw certificate error inside initialize(), untyped.
          const applied = withIam(
            {
              type: 'mysql',
              replication: { master: node(primary), slaves: [node(replica)] },
              driver: typeorm.mysql2,
              iam,
            },
            injection,
          )
          const control = new typeorm.DataSource({ ...applied, replication } as unknown as DataSourceOptions)
          const error = await control.initialize().then(
            () => control.destroy(),
            (err: unknown) => err,
          )
          expect(error).toBeInstanceOf(Error)
          expect(error).not.toBeInstanceOf(RdsIamError)
          // mysql2 wraps the TLS failure in its own code, with Node's message.
          expect(error).toMatchObject({
            code: 'HANDSHAKE_SSL_ERROR',
            message: expect.stringMatching(/self-signed certificate/),
          })
          // The fix: the same options are refused when they are written, naming where `ssl` goes.
          expect(() =>
            withIam({ type: 'mysql', replication, driver: typeorm.mysql2, iam }, injection),
          ).toThrow(
            expect.objectContaining({
              code: 'RDS_IAM_INVALID_OPTIONS',
              message: expect.stringMatching(/`replication\.master\.ssl` is set/),
              hint: expect.stringMatching(/put `ssl` at the top level/),
            }),
          )
        })
      }
    }
  })
}

function rejected(stats: { rejected: Record<string, number> }): number {
  return Object.values(stats.rejected).reduce((a, b) => a + b, 0)
}
