import { createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { RdsIamError, withIam } from '../src/index.js'
import { type HarnessDialect, SEQUELIZE_VERSIONS } from './sequelize-harness.js'

// Sequelize runs `beforeConnect` before its dialect's `connect`, and the hook awaits the token
// (limiter permit, then the provider) there, so it plays the role of core's `auth.prepare()`: a
// credential source that throws or hangs fails the caller before any socket exists, and no server
// holds a half-open login. A plain TCP listener counts every socket that reaches it; nothing
// should. No database is needed: the point is that none is contacted.

let server: Server
let port = 0
let sockets = 0
const open = new Set<Socket>()

beforeAll(async () => {
  server = createServer((socket) => {
    sockets += 1
    open.add(socket)
    socket.on('close', () => open.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as { port: number }).port
})
afterAll(
  () =>
    new Promise<void>((resolve) => {
      for (const s of open) s.destroy()
      server.close(() => resolve())
    }),
)

const SOURCES = {
  throws: async () => {
    throw new Error('no credentials here')
  },
  hangs: () => new Promise<never>(() => {}),
}

for (const dialect of ['postgres', 'mysql'] as HarnessDialect[]) {
  for (const [version, Sequelize] of Object.entries(SEQUELIZE_VERSIONS)) {
    describe(`sequelize ${version}, ${dialect}: the token is settled before the socket opens`, () => {
      for (const [kind, credentials] of Object.entries(SOURCES)) {
        test(`a credential source that ${kind}: RDS_IAM_CREDENTIALS and no socket reached the server`, async () => {
          const before = sockets
          const sequelize = new Sequelize(
            withIam({
              dialect,
              host: '127.0.0.1',
              port,
              username: 'app',
              database: 'app',
              logging: false,
              dialectOptions: { ssl: { ca: 'not used: nothing connects' } },
              iam: { region: 'us-east-1', credentials, credentialTimeoutMs: 200 },
            }),
          )
          try {
            const results = await Promise.all(
              Array.from({ length: 3 }, () =>
                sequelize.query('select 1').then(
                  () => undefined,
                  (err: unknown) => err,
                ),
              ),
            )
            for (const err of results) {
              expect(err).toBeInstanceOf(RdsIamError)
              expect((err as RdsIamError).code).toBe('RDS_IAM_CREDENTIALS')
            }
            expect(sockets - before).toBe(0)
          } finally {
            await sequelize.close()
          }
        })
      }
    })
  }
}
