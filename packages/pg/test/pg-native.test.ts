import pg from 'pg'
import { describe, expect, test } from 'vitest'
import { createClient, createPool, Pool, withIam } from '../src/index.js'

// pg-native (libpq) never calls a password function, so it cannot take a token per connection.
// pg-native is not installed here (it needs libpq headers to compile); the native client is
// recognised by shape: it has no JavaScript authentication handshake.
const config = { host: 'db.abc123.us-east-1.rds.amazonaws.com', user: 'app', iam: true as const }
function NativeLikeClient() {}
const nativeLikeModule = { Pool: pg.Pool, Client: NativeLikeClient as unknown as typeof pg.Client }

const unsupported = expect.objectContaining({
  code: 'RDS_IAM_UNSUPPORTED_DRIVER',
  hint: expect.stringMatching(/pure JavaScript pg/),
})

describe('pg-native is refused with RDS_IAM_UNSUPPORTED_DRIVER', () => {
  test('native: true in the config', () => {
    expect(() => new Pool({ ...config, native: true } as never)).toThrow(unsupported)
    expect(() => withIam({ ...config, native: true })).toThrow(unsupported)
  })

  test('an injected pg whose Client is native (pg.native, NODE_PG_FORCE_NATIVE)', () => {
    expect(() => createPool(config, { pg: nativeLikeModule })).toThrow(unsupported)
    expect(() => createClient(config, { pg: nativeLikeModule })).toThrow(unsupported)
  })

  test('a native Client passed to the pool', () => {
    expect(() => new Pool({ ...config, Client: NativeLikeClient as never })).toThrow(unsupported)
  })

  test('withIam config handed to pg.native: stringifying the password function fails typed', () => {
    const { password } = withIam(config) as { password: () => Promise<string> }
    expect(() => String(password)).toThrow(unsupported)
  })

  test('the JavaScript pg is accepted', async () => {
    const pool = createPool(config, { pg })
    expect(pool).toBeInstanceOf(pg.Pool)
    expect(pool).toBeInstanceOf(Pool)
    await pool.end()
  })
})
