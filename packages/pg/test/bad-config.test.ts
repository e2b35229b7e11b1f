import { type HangupServer, startHangupServer } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Client, Pool, RdsIamError, withIam } from '../src/index.js'

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
    ['empty host', () => new Pool({ ...base(), host: '' }), /host/],
    ['a Unix socket host', () => new Pool({ ...base(), host: '/var/run/postgresql' }), /host/],
    ['a non-numeric port string', () => new Pool({ ...base(), port: 'abc' as unknown as number }), /port/],
    ['a port out of range', () => new Client({ ...base(), port: 70000 }), /port/],
    ['iam together with a password', () => new Pool({ ...base(), password: 'secret' } as never), /password/],
    [
      'a password function with iam',
      () => new Client({ ...base(), password: async () => 'x' } as never),
      /password/,
    ],
    [
      'an unknown iam key',
      () => new Pool({ ...base(), iam: { region: 'us-east-1', regoin: 'x' } as never }),
      /regoin/,
    ],
    ['an iam value of the wrong type', () => new Pool({ ...base(), iam: 'yes' as never }), /iam/],
    ['no user', () => new Pool({ ...base(), user: undefined }), /user/],
    ['a config that is not an object', () => withIam(null as never), /config/],
    ['Pool without iam', () => new Pool({ host: '127.0.0.1', port, user: 'app' } as never), /iam/],
  ]

  test.each(cases)('%s → RDS_IAM_INVALID_OPTIONS', (_name, make, mentions) => {
    const saved = process.env.PGHOST
    delete process.env.PGHOST
    let error: unknown
    try {
      make()
    } catch (err) {
      error = err
    } finally {
      if (saved !== undefined) process.env.PGHOST = saved
    }
    expect(error).toBeInstanceOf(RdsIamError)
    const typed = error as RdsIamError
    expect(typed.code).toBe('RDS_IAM_INVALID_OPTIONS')
    expect(typed.hint.length).toBeGreaterThan(10)
    expect(`${typed.message} ${typed.hint}`).toMatch(mentions)
    expect(server.connections()).toBe(0)
  })

  test('a numeric port string is accepted as pg accepts it', () => {
    expect(withIam({ ...base(), port: String(port) as unknown as number }).port).toBe(port)
  })
})
