import { type HangupServer, startHangupServer } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { connectWithRetry, createConnection, createPool, RdsIamError, withIam } from '../src/index.js'
import {
  createConnection as createPromiseConnection,
  createPool as createPromisePool,
} from '../src/promise.js'

// Issue 8 item 5: `ssl: { rejectUnauthorized: false }` handed the token (a credential for 15
// minutes) to whoever answered. Unverified TLS is treated like no TLS: RDS_IAM_INSECURE_TRANSPORT,
// with a hint naming the RDS CA bundle, before any network traffic, unless iam.insecure.
describe('unverified TLS is refused', () => {
  let server: HangupServer
  beforeAll(async () => {
    server = await startHangupServer()
  })
  afterAll(() => server.close())

  const config = (iam: object = {}) => ({
    host: '127.0.0.1',
    port: server.port,
    user: 'app',
    ssl: { rejectUnauthorized: false },
    iam: { region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' }, ...iam },
  })
  const entryPoints: [string, (c: ReturnType<typeof config>) => unknown][] = [
    ['withIam', (c) => withIam(c)],
    ['createPool', (c) => createPool(c)],
    ['promise createPool', (c) => createPromisePool(c)],
    ['createConnection', (c) => createConnection(c)],
    ['connectWithRetry', (c) => connectWithRetry(c, () => {})],
    ['promise createConnection', (c) => createPromiseConnection(c)],
  ]

  test.each(entryPoints)(
    '%s: ssl.rejectUnauthorized false → RDS_IAM_INSECURE_TRANSPORT',
    async (_name, open) => {
      let error: unknown
      try {
        await open(config())
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(RdsIamError)
      expect((error as RdsIamError).code).toBe('RDS_IAM_INSECURE_TRANSPORT')
      expect((error as RdsIamError).message).toMatch(/rejectUnauthorized/)
      expect((error as RdsIamError).hint).toMatch(/RDS CA bundle/)
      expect(server.connections()).toBe(0)
    },
  )

  test('with iam.insecure the user’s unverified TLS is passed on as written (local testing)', () => {
    const config2 = withIam(config({ insecure: true }))
    expect(config2.ssl).toEqual({ rejectUnauthorized: false })
    expect(server.connections()).toBe(0)
  })
})
