import { connect } from 'node:net'
import { isRdsIamError } from '@rds-iam/core'
import { howToStart, selectedEngines, TEST_URLS } from '@rds-iam/testkit'
import type { DataSourceOptions } from 'typeorm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type CountingRelay, startCountingRelay } from '../../pg/test/counting-relay.js'
import { withIam } from '../src/index.js'
import { loadTypeorm, TYPEORM_ALIASES } from './typeorm-versions.js'

// A server that offers no TLS must reach TypeORM users as the same typed error @rds-iam/pg's and
// @rds-iam/mysql2's pools give (TypeORM builds its pools with them): RDS_IAM_INSECURE_TRANSPORT,
// the driver error as cause, no token sent, whether initialize() or the first query connects.
// The local PostgreSQL and MariaDB run without TLS: real servers that offer none.

// pg's 8-byte SSLRequest (length 8, code 80877103): all pg may send to a server that answers 'N'.
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
const credentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
}

/** Fails with the command that starts the server when it is not listening (also under CI). */
async function reachable(engine: 'postgres' | 'mysql', host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, host)
    socket.once('connect', () => {
      socket.destroy()
      resolve()
    })
    socket.once('error', (err) =>
      reject(
        new Error(
          `${engine} is not reachable at ${host}:${port}: ${String(err)}. Fix: ${howToStart(engine)}`,
        ),
      ),
    )
  })
}

for (const engine of selectedEngines(['postgres', 'mysql'])) {
  if (engine !== 'postgres' && engine !== 'mysql') continue
  const server = new URL(TEST_URLS[engine])
  const serverPort = Number(server.port || (engine === 'mysql' ? 3306 : 5432))

  describe(`typeorm ${engine}: a server that offers no TLS`, () => {
    let relay: CountingRelay
    beforeAll(() => reachable(engine, server.hostname, serverPort))
    afterAll(() => relay?.close())

    test.each(TYPEORM_ALIASES)('%s → RDS_IAM_INSECURE_TRANSPORT, no token sent', async (alias) => {
      const typeorm = loadTypeorm(alias)
      await relay?.close()
      relay = await startCountingRelay(serverPort, server.hostname)
      const dataSource = new typeorm.DataSource(
        withIam({
          type: engine,
          host: '127.0.0.1',
          port: relay.port,
          username: `no_tls_${process.pid}`,
          database: server.pathname.slice(1) || 'test',
          iam: { region: 'us-east-1', credentials },
          driver: engine === 'mysql' ? typeorm.mysql2 : typeorm.pg,
        } as never) as unknown as DataSourceOptions,
      )
      // Whichever connects first: initialize() (postgres, and mysql's version probe) or a query.
      const err = await dataSource
        .initialize()
        .then(() => dataSource.query('select 1'))
        .then(
          () => new Error('it connected'),
          (e: unknown) => e,
        )
      if (dataSource.isInitialized) await dataSource.destroy()
      expect(isRdsIamError(err)).toBe(true)
      const typed = err as { code: string; message: string; hint: string; cause?: unknown }
      expect(typed.code).toBe('RDS_IAM_INSECURE_TRANSPORT')
      expect(typed.message).toContain(`127.0.0.1:${relay.port} does not offer TLS`)
      expect(typed.hint).toMatch(/RDS endpoint/)
      expect(typed.hint).toContain('ssl: false and iam: { insecure: true }')
      if (engine === 'postgres') {
        expect((typed.cause as Error).message).toBe('The server does not support SSL connections')
      } else {
        expect(typed.cause).toMatchObject({ code: 'HANDSHAKE_NO_SSL_SUPPORT' })
      }
      // pg sent only its SSLRequest; mysql2 nothing (it stops at the greeting): no token went out.
      expect(relay.connections()).toBeGreaterThanOrEqual(1)
      const perSocket = engine === 'postgres' ? SSL_REQUEST : Buffer.alloc(0)
      expect(relay.sent()).toEqual(
        Buffer.concat(Array.from({ length: relay.connections() }, () => perSocket)),
      )
    })
  })
}
