import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nodeDefaultCa, rdsTls } from '@rds-iam/core'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { selectedEngines, TEST_URLS } from '@rds-iam/testkit'
import { Sequelize } from 'sequelize'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { getTokenProvider, isRdsIamError, withIam } from '../src/index.js'

// Certificate files named in a connection URL (`sslrootcert`, as libpq and pg-connection-string
// read it) against the emulator in front of the local PostgreSQL / MariaDB. withIam(url) used to
// drop `sslrootcert`, so the emulator's CA written to a file was not trusted and the login failed
// with "self-signed certificate in certificate chain", while addIamHooks(new Sequelize(url))
// (Sequelize reads the file itself for postgres) logged in.

const RETRY = { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20 }
const ENGINES = (['postgres', 'mysql'] as const).filter((e) =>
  selectedEngines(['postgres', 'mysql']).includes(e),
)
const dir = mkdtempSync(join(tmpdir(), 'rds-iam-seq-url-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

for (const engine of ENGINES) {
  describe(`${engine}: certificate files in the URL given to withIam`, () => {
    let emu: Emulator
    let caFile: string
    beforeAll(async () => {
      emu = await startEmulator({ engine, upstream: TEST_URLS[engine] })
      caFile = join(dir, `${engine}-emulator-ca.pem`)
      writeFileSync(caFile, emu.ca)
    })
    afterAll(() => emu?.stop())

    const database = new URL(TEST_URLS[engine]).pathname.slice(1) || 'test'
    const iam = () => ({ region: emu.region, credentials: emu.credentials[0]!, retry: RETRY })
    const url = (query: string) =>
      `${engine}://seq_url_${randomBytes(4).toString('hex')}@localhost:${emu.port}/${database}?${query}`

    test('sslmode=verify-full&sslrootcert=<file>: the file is the trusted CA, and the login works', async () => {
      const before = emu.stats().accepted
      const sequelize = new Sequelize(
        withIam(url(`sslmode=verify-full&sslrootcert=${encodeURIComponent(caFile)}`), {
          logging: false,
          iam: iam(),
        }),
      )
      try {
        await sequelize.authenticate()
        expect(getTokenProvider(sequelize)?.stats().signed).toBe(1)
        expect(emu.stats().accepted - before).toBeGreaterThanOrEqual(1)
      } finally {
        await sequelize.close()
      }
    })

    test('sslmode=require with sslrootcert still verifies the chain: a file with another CA is refused before any token', async () => {
      const otherCa = join(dir, `${engine}-rds-bundle.pem`)
      writeFileSync(otherCa, rdsTls().ca.join('\n'))
      const before = emu.stats()
      const sequelize = new Sequelize(
        withIam(url(`sslmode=require&sslrootcert=${encodeURIComponent(otherCa)}`), {
          logging: false,
          iam: iam(),
        }),
      )
      try {
        await expect(sequelize.authenticate()).rejects.toThrow(/self[- ]signed certificate|unable to verify/)
        // The emulator never saw a login: the handshake failed before the token was sent.
        expect(emu.stats().accepted).toBe(before.accepted)
      } finally {
        await sequelize.close()
      }
    })

    test('an explicit dialectOptions.ssl object still wins over the URL’s certificate file', async () => {
      const sequelize = new Sequelize(
        withIam(url('sslrootcert=/nonexistent/ca.pem'), {
          dialectOptions: { ssl: { ca: emu.ca } },
          logging: false,
          iam: iam(),
        }),
      )
      try {
        await sequelize.authenticate()
      } finally {
        await sequelize.close()
      }
    })
  })
}

describe('certificate files in the URL: refused mistakes', () => {
  const iam = { region: 'us-east-1', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' } }

  test('a file that cannot be read is RDS_IAM_INVALID_OPTIONS naming the parameter, at withIam', () => {
    let error: unknown
    try {
      withIam('postgres://app@localhost:5432/app?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem', {
        iam,
      })
    } catch (err) {
      error = err
    }
    expect(isRdsIamError(error)).toBe(true)
    expect(error).toMatchObject({ code: 'RDS_IAM_INVALID_OPTIONS' })
    expect(String((error as Error).message)).toMatch(/sslrootcert/)
    expect((error as { hint: string }).hint).toMatch(/sslrootcert|dialectOptions\.ssl/)
  })

  // libpq's sslrootcert=system: the trusted roots (as @rds-iam/pg maps it), not a file named "system".
  for (const query of ['sslmode=verify-full&sslrootcert=system', 'sslrootcert=system']) {
    test(`${query}: ssl.ca is Node's default roots (nodeDefaultCa), verification kept`, () => {
      const out = withIam(`postgres://app@localhost:5432/app?${query}`, { iam })
      const ssl = (out.dialectOptions as { ssl: { ca: unknown; rejectUnauthorized?: unknown } }).ssl
      expect(ssl.ca).toEqual(nodeDefaultCa())
      expect(ssl.rejectUnauthorized).not.toBe(false)
    })
  }

  test('sslrootcert=system with a weaker sslmode is refused, as libpq refuses it', () => {
    for (const mode of ['require', 'verify-ca']) {
      expect(() =>
        withIam(`postgres://app@localhost:5432/app?sslmode=${mode}&sslrootcert=system`, { iam }),
      ).toThrow(
        expect.objectContaining({
          code: 'RDS_IAM_INVALID_OPTIONS',
          message: expect.stringContaining(`sslmode=${mode}`),
          hint: expect.stringMatching(/verify-full/),
        }),
      )
    }
  })

  test('sslmode=no-verify with sslrootcert is refused as insecure (the chain would not be checked)', () => {
    const file = join(dir, 'any-ca.pem')
    writeFileSync(file, rdsTls().ca[0]!)
    expect(() =>
      withIam(`postgres://app@localhost:5432/app?sslmode=no-verify&sslrootcert=${encodeURIComponent(file)}`, {
        iam,
      }),
    ).toThrow(expect.objectContaining({ code: 'RDS_IAM_INSECURE_TRANSPORT' }))
  })
})
