import { type HangupServer, startHangupServer } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createConnection, createPool, RdsIamError, withIam } from '../src/index.js'
import { createConnection as createPromiseConnection } from '../src/promise.js'

// Every bad config is refused with RDS_IAM_INVALID_OPTIONS naming the fix, before any network
// traffic: a listening socket counts connections to prove nothing was attempted.
describe('bad config', () => {
  let server: HangupServer
  let port: number
  beforeAll(async () => {
    server = await startHangupServer()
    port = server.port
  })
  afterAll(() => server.close())

  const base = () => ({ host: '127.0.0.1', port, user: 'app', database: 'db', iam: { region: 'us-east-1' } })
  const cases: [string, () => unknown, RegExp][] = [
    ['no host', () => withIam({ ...base(), host: undefined }), /host/],
    ['a non-numeric port string', () => createPool({ ...base(), port: 'abc' as unknown as number }), /port/],
    [
      'iam together with a password',
      () => createPool({ ...base(), password: 'secret' } as never),
      /password/,
    ],
    [
      'a password in the uri',
      () => createPool({ uri: `mysql://app:secret@127.0.0.1:${port}/db`, iam: true }),
      /password/,
    ],
    ['an unknown iam key', () => createConnection({ ...base(), iam: { retries: 3 } as never }), /retries/],
    ['no user', () => createPool({ ...base(), user: undefined }), /user/],
    ['a socketPath', () => createPool({ ...base(), socketPath: '/tmp/mysql.sock' }), /socket/],
    ['a config that is not an object', () => withIam(42 as never), /config/],
    ['createPool without iam', () => createPool({ host: '127.0.0.1', port, user: 'app' } as never), /iam/],
  ]

  test.each(cases)('%s → RDS_IAM_INVALID_OPTIONS', (_name, make, mentions) => {
    let error: unknown
    try {
      make()
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(RdsIamError)
    const typed = error as RdsIamError
    expect(typed.code).toBe('RDS_IAM_INVALID_OPTIONS')
    expect(typed.hint.length).toBeGreaterThan(10)
    expect(`${typed.message} ${typed.hint}`).toMatch(mentions)
    expect(server.connections()).toBe(0)
  })

  test('the promise createConnection rejects the same way', async () => {
    await expect(createPromiseConnection({ ...base(), password: 'x' } as never)).rejects.toMatchObject({
      code: 'RDS_IAM_INVALID_OPTIONS',
    })
    expect(server.connections()).toBe(0)
  })

  test('ssl: false without insecure → RDS_IAM_INSECURE_TRANSPORT', () => {
    expect(() => createPool({ ...base(), ssl: false as never })).toThrow(
      expect.objectContaining({ code: 'RDS_IAM_INSECURE_TRANSPORT' }),
    )
  })
})
