import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nodeDefaultCa, rdsTls } from '@rds-iam/core'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { getTokenProvider, Pool, RdsIamError, withIam } from '../src/index.js'

// DESIGN §10: with plain pg, values parsed from connectionString override the config object, so an
// empty password replaces the password function and sslmode replaces the ssl object (losing the CA).

describe('connectionString (pure)', () => {
  test('sslmode=require keeps the password function and verifies against the RDS bundle', () => {
    const warnings: Error[] = []
    const onWarning = (w: Error) => warnings.push(w)
    process.on('warning', onWarning)
    try {
      const config = withIam({
        connectionString: 'postgres://app:@db.abc123.eu-west-1.rds.amazonaws.com:5433/shop?sslmode=require',
      }) as Record<string, unknown>
      expect(typeof config.password).toBe('function')
      expect(config.connectionString).toBeUndefined()
      expect(config).toMatchObject({
        host: 'db.abc123.eu-west-1.rds.amazonaws.com',
        port: 5433,
        user: 'app',
        database: 'shop',
      })
      // Verified against the RDS bundle, and the certificate must name the host (issue 8, item 5).
      expect(config.ssl).toMatchObject({
        ca: rdsTls().ca,
        rejectUnauthorized: true,
        servername: 'db.abc123.eu-west-1.rds.amazonaws.com',
      })
      expect(typeof (config.ssl as { checkServerIdentity?: unknown }).checkServerIdentity).toBe('function')
    } finally {
      process.off('warning', onWarning)
    }
    // pg-connection-string warns about sslmode=require; rds-iam interprets sslmode itself.
    expect(warnings).toEqual([])
  })

  test('a user ssl object wins over the sslmode in the URL', () => {
    const ssl = { ca: 'my-ca', rejectUnauthorized: true }
    const config = withIam({
      connectionString: 'postgres://app@h.example:5432/db?sslmode=verify-full',
      ssl,
      iam: { region: 'us-east-1' },
    })
    // The user's settings are kept; the host-name check is added (issue 8, item 4).
    expect(config.ssl).toMatchObject(ssl)
    expect(typeof (config.ssl as { checkServerIdentity?: unknown }).checkServerIdentity).toBe('function')
  })

  test('sslmode=disable is refused unless iam.insecure', () => {
    const url = 'postgres://app@h.example:5432/db?sslmode=disable'
    expect(() => withIam({ connectionString: url, iam: { region: 'us-east-1' } })).toThrow(
      expect.objectContaining({
        code: 'RDS_IAM_INSECURE_TRANSPORT',
        hint: expect.stringContaining('insecure'),
      }),
    )
    expect(withIam({ connectionString: url, iam: { insecure: true, region: 'us-east-1' } }).ssl).toBe(false)
  })

  test('a password in the URL conflicts with iam', () => {
    expect(() => withIam({ connectionString: 'postgres://app:secret@h.example/db' })).toThrow(
      expect.objectContaining({ code: 'RDS_IAM_INVALID_OPTIONS' }),
    )
  })

  // Review finding: these gave "connectionString could not be parsed … percent-encode", which
  // names the wrong fix. The error must name the parameter and the file.
  test('an sslrootcert file that does not exist is named, with the reason', () => {
    const missing = join(tmpdir(), `rds-iam-missing-${process.pid}`, 'ca.pem')
    let error: unknown
    try {
      withIam({
        connectionString: `postgres://app@h.example:5432/db?sslrootcert=${encodeURIComponent(missing)}`,
      })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(RdsIamError)
    const e = error as RdsIamError
    expect(e.code).toBe('RDS_IAM_INVALID_OPTIONS')
    expect(e.message).toContain(`sslrootcert=${missing}`)
    expect(e.message).toContain('ENOENT')
    expect(e.hint).toContain('sslrootcert=system')
    expect(`${e.message} ${e.hint}`).not.toMatch(/percent-encode|could not be parsed/)
    expect((e.cause as { code?: string }).code).toBe('ENOENT')
  })

  test('an sslcert / sslkey file that cannot be read is named too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rds-iam-pg-'))
    try {
      // A directory: it exists, but is no file to read.
      expect(() =>
        withIam({ connectionString: `postgres://app@h.example:5432/db?sslkey=${encodeURIComponent(dir)}` }),
      ).toThrow(
        expect.objectContaining({
          code: 'RDS_IAM_INVALID_OPTIONS',
          message: expect.stringContaining(`sslkey=${dir}`),
        }),
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('with TLS turned off the certificate files are not read (libpq does not read them either)', () => {
    const config = withIam({
      connectionString: 'postgres://app@h.example:5432/db?sslmode=disable&sslrootcert=/nonexistent/ca.pem',
      iam: { region: 'us-east-1', insecure: true },
    })
    expect(config.ssl).toBe(false)
  })

  test('sslrootcert=system: the trusted root CAs with full verification, not the RDS bundle', () => {
    for (const query of ['sslrootcert=system', 'sslrootcert=system&sslmode=verify-full']) {
      const config = withIam({
        connectionString: `postgres://app@db.abc123.eu-west-1.rds.amazonaws.com:5432/db?${query}`,
      })
      const ssl = config.ssl as Record<string, unknown>
      // Node's default roots, named explicitly (an object without `ca` would get the RDS bundle).
      expect(ssl.ca).toEqual(nodeDefaultCa())
      expect(ssl.rejectUnauthorized).toBe(true)
      expect(ssl.servername).toBe('db.abc123.eu-west-1.rds.amazonaws.com')
      expect(typeof ssl.checkServerIdentity).toBe('function')
    }
  })

  test.each([
    'sslmode=require',
    'sslmode=verify-ca',
    'sslmode=prefer',
    'sslmode=no-verify',
    'sslmode=disable',
    'ssl=false',
  ])('sslrootcert=system with %s is refused, as libpq refuses it', (mode) => {
    expect(() =>
      withIam({
        connectionString: `postgres://app@h.example:5432/db?sslrootcert=system&${mode}`,
        iam: { region: 'us-east-1', insecure: true },
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'RDS_IAM_INVALID_OPTIONS',
        message: expect.stringContaining(`sslrootcert=system with ${mode}`),
        hint: expect.stringContaining('verify-full'),
      }),
    )
  })

  test('the URL overrides host/port/user/database like pg does; the port becomes a number', () => {
    const config = withIam({
      connectionString: 'postgres://url_user@url-host.example:6543/url_db',
      host: 'cfg',
      user: 'cfg',
      iam: { region: 'us-east-1' },
    })
    expect(config).toMatchObject({
      host: 'url-host.example',
      port: 6543,
      user: 'url_user',
      database: 'url_db',
    })
    expect(getTokenProvider(config)?.target).toMatchObject({ username: 'url_user', port: 6543 })
  })
})

describe('connectionString against the emulator', () => {
  let emu: Emulator
  let dir: string
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'postgres', upstream: TEST_URLS.postgres })
    dir = mkdtempSync(join(tmpdir(), 'rds-iam-pg-'))
  })
  afterAll(async () => {
    await emu?.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  const iam = () => ({ region: emu.region, credentials: emu.credentials[0]! })
  const url = (query: string) => `postgres://conn_string_user:@localhost:${emu.port}/test?${query}`

  test('empty password + sslmode=verify-full + ssl { ca }: connects (plain pg loses the CA here)', async () => {
    const pool = new Pool({ connectionString: url('sslmode=verify-full'), ssl: { ca: emu.ca }, iam: iam() })
    try {
      const { rows } = await pool.query('select 1 as one')
      expect(rows).toEqual([{ one: 1 }])
      expect(getTokenProvider(pool)?.stats().signed).toBe(1)
    } finally {
      await pool.end()
    }
    // The trap itself, with plain pg: sslmode replaces the ssl object and the CA is gone.
    const plain = new pg.Client({
      connectionString: url('sslmode=verify-full'),
      ssl: { ca: emu.ca },
      password: 'x',
    })
    await expect(plain.connect()).rejects.toThrow(/self[- ]signed|certificate/i)
  })

  test('sslrootcert in the URL is the user CA and is used', async () => {
    const caFile = join(dir, 'ca.pem')
    writeFileSync(caFile, emu.ca)
    const pool = new Pool({
      connectionString: url(`sslmode=verify-full&sslrootcert=${encodeURIComponent(caFile)}`),
      iam: iam(),
    })
    try {
      expect((await pool.query('select 2 as two')).rows).toEqual([{ two: 2 }])
    } finally {
      await pool.end()
    }
  })

  test("sslrootcert=system does not trust a private CA (the emulator's): the login is refused by TLS", async () => {
    const pool = new Pool({
      connectionString: url('sslrootcert=system'),
      iam: { ...iam(), retry: { maxAttempts: 1 } },
    })
    pool.on('error', () => {})
    const before = emu.stats()
    try {
      const error = await pool.query('select 1').then(
        () => undefined,
        (err: unknown) => err,
      )
      expect(error).toBeInstanceOf(Error)
      expect(String((error as Error).message)).toMatch(/certificate/i)
      expect(emu.stats().accepted).toBe(before.accepted)
    } finally {
      await pool.end()
    }
  })

  test('without the emulator CA the connection is refused: verification is on by default', async () => {
    const pool = new Pool({
      connectionString: url('sslmode=require'),
      iam: { ...iam(), retry: { maxAttempts: 1 } },
    })
    pool.on('error', () => {})
    try {
      const error = await pool.query('select 1').then(
        () => undefined,
        (err: unknown) => err,
      )
      expect(error).toBeInstanceOf(Error)
      expect(error).not.toBeInstanceOf(RdsIamError)
      expect(String((error as Error).message)).toMatch(/certificate/i)
    } finally {
      await pool.end()
    }
  })
})
