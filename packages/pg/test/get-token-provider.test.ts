import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { getTokenProvider, withIam } from '../src/index.js'

// Issue 8, item 16: getTokenProvider() answers for the user's own pg.Pool built from withIam()
// (pg copies the config, so the pool object itself was never seen by rds-iam).

describe('getTokenProvider on pg objects built from withIam()', () => {
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'postgres', upstream: TEST_URLS.postgres })
  })
  afterAll(() => emu?.stop())

  const config = () =>
    withIam({
      host: 'localhost',
      port: emu.port,
      user: `lookup_user_${process.pid}`,
      database: 'test',
      ssl: { ca: emu.ca },
      iam: { region: emu.region, credentials: emu.credentials[0]! },
    })

  test('new pg.Pool(withIam(cfg)): the provider that signs its connections', async () => {
    const cfg = config()
    const pool = new pg.Pool(cfg)
    try {
      const provider = getTokenProvider(pool)
      expect(provider).toBeDefined()
      expect(provider).toBe(getTokenProvider(cfg))
      await pool.query('select 1')
      expect(provider!.stats().signed).toBeGreaterThanOrEqual(1)
    } finally {
      await pool.end()
    }
  })

  test('new pg.Client(withIam(cfg)) before connect, and unrelated objects', async () => {
    const cfg = config()
    const client = new pg.Client(cfg)
    expect(getTokenProvider(client)).toBe(getTokenProvider(cfg))
    expect(getTokenProvider(new pg.Pool({ host: 'localhost' }))).toBeUndefined()
    expect(getTokenProvider({})).toBeUndefined()
  })
})
