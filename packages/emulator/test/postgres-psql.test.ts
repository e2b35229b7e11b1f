import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../src/index.js'
import { PG_URL, requirePostgres, signToken } from './fixtures/pg-env.js'

const pgReachable = await requirePostgres(PG_URL)
const psqlAvailable = await new Promise<boolean>((resolve) =>
  execFile('psql', ['--version'], (err) => resolve(err === null)),
)
if (!psqlAvailable) {
  const message = 'psql is not installed (Debian: apt-get install postgresql-client)'
  if (process.env.CI) throw new Error(message)
  console.warn(`skipping psql tests: ${message}`)
}

function psql(conninfo: string, password: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'psql',
      [conninfo, '-X', '-A', '-t', '-c', 'select 40 + 2'],
      { env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code ?? 1), stdout, stderr }),
    )
  })
}

describe.skipIf(!pgReachable || !psqlAvailable)('postgres front with the real psql client', () => {
  let emu: Emulator
  let dir: string
  let caFile: string
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'postgres', upstream: PG_URL })
    dir = await mkdtemp(join(tmpdir(), 'emu-psql-'))
    caFile = join(dir, 'ca.pem')
    await writeFile(caFile, emu.ca)
  })
  afterAll(async () => {
    await emu?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('logs in with sslmode=verify-full and the token as PGPASSWORD', async () => {
    const token = await signToken(emu, 'app_user')
    const result = await psql(
      `host=localhost port=${emu.port} user=app_user dbname=test sslmode=verify-full sslrootcert=${caFile}`,
      token,
    )
    expect(result).toMatchObject({ code: 0, stdout: '42\n' })
  })

  it('shows RDS messages for a bad token and for sslmode=disable', async () => {
    const bad = await psql(
      `host=localhost port=${emu.port} user=app_user dbname=test sslmode=verify-full sslrootcert=${caFile}`,
      'not-a-token',
    )
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('FATAL:  PAM authentication failed for user "app_user"')

    const plain = await psql(`host=127.0.0.1 port=${emu.port} user=app_user dbname=test sslmode=disable`, 'x')
    expect(plain.code).not.toBe(0)
    expect(plain.stderr).toContain(
      'FATAL:  pg_hba.conf rejects connection for host "127.0.0.1", user "app_user", database "test", no encryption',
    )
  })
})
