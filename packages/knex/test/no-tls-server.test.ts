import { connect } from 'node:net'
import { isRdsIamError } from '@rds-iam/core'
import { howToStart, selectedEngines, TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type CountingRelay, startCountingRelay } from '../../pg/test/counting-relay.js'
import { withIam } from '../src/index.js'
import { clientFor } from './engine-fixture.js'
import { loadKnexVersion } from './knex-harness.js'

// Review finding: knex's dialect opens raw pg / mysql2 connections, not @rds-iam's pools, so a
// server that offers no TLS surfaced as the bare driver error ("The server does not support SSL
// connections" / HANDSHAKE_NO_SSL_SUPPORT) while @rds-iam/pg and @rds-iam/mysql2 typed it. Now it
// is RDS_IAM_INSECURE_TRANSPORT there too, the driver error as cause, one socket, no token sent.
// The local PostgreSQL and MariaDB run without TLS: real servers that offer none.

// pg's 8-byte SSLRequest (length 8, code 80877103): all pg may send to a server that answers 'N'.
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
const credentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
}

/** Fails with the command that starts the server when it is not listening (also under CI). */
async function reachable(engine: 'postgres' | 'mysql', url: URL): Promise<void> {
  const port = Number(url.port || (engine === 'mysql' ? 3306 : 5432))
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, url.hostname)
    socket.once('connect', () => {
      socket.destroy()
      resolve()
    })
    socket.once('error', (err) =>
      reject(
        new Error(`${engine} is not reachable at ${url.host}: ${String(err)}. Fix: ${howToStart(engine)}`),
      ),
    )
  })
}

for (const engine of selectedEngines(['postgres', 'mysql'])) {
  if (engine !== 'postgres' && engine !== 'mysql') continue
  const server = new URL(TEST_URLS[engine])
  const serverPort = Number(server.port || (engine === 'mysql' ? 3306 : 5432))

  describe(`knex client '${clientFor(engine)}': a server that offers no TLS`, () => {
    let relay: CountingRelay
    beforeAll(async () => {
      await reachable(engine, server)
      relay = await startCountingRelay(serverPort, server.hostname)
    })
    afterAll(() => relay?.close())

    test('a query → RDS_IAM_INSECURE_TRANSPORT, the driver error as cause, one socket, no token', async () => {
      const knex = loadKnexVersion('knex')
      const db = knex(
        withIam(
          {
            client: clientFor(engine),
            connection: {
              host: '127.0.0.1',
              port: relay.port,
              user: `no_tls_${process.pid}`,
              database: server.pathname.slice(1) || 'test',
              iam: { region: 'us-east-1', credentials },
            },
            pool: { min: 0, max: 1 },
          },
          { knex },
        ),
      )
      const err = await db
        .raw('select 1')
        .then(
          () => new Error('it connected'),
          (e: unknown) => e,
        )
        .finally(() => db.destroy())
      expect(isRdsIamError(err)).toBe(true)
      const typed = err as { code: string; message: string; hint: string; cause?: unknown }
      expect(typed.code).toBe('RDS_IAM_INSECURE_TRANSPORT')
      expect(typed.message).toContain(`knex (client '${clientFor(engine)}')`)
      expect(typed.message).toContain(`127.0.0.1:${relay.port} does not offer TLS`)
      expect(typed.hint).toMatch(/RDS endpoint/)
      expect(typed.hint).toContain('ssl: false and iam: { insecure: true }')
      if (engine === 'postgres') {
        expect((typed.cause as Error).message).toBe('The server does not support SSL connections')
      } else {
        expect(typed.cause).toMatchObject({ code: 'HANDSHAKE_NO_SSL_SUPPORT' })
      }
      // One socket (not retried). pg sent only its SSLRequest; mysql2 nothing (it reads the
      // greeting first and stops there): no login packet, so no token reached the server.
      expect(relay.connections()).toBe(1)
      expect(relay.sent()).toEqual(engine === 'postgres' ? SSL_REQUEST : Buffer.alloc(0))
    })
  })
}
