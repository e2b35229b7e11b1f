import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type MysqlEmulator,
  requireMysql,
  signToken,
  startMysqlEmulator,
  upstreamOptions,
} from './fixtures/mysql-env.js'

const available = await requireMysql()

/** Runs the real `mariadb` client asynchronously (a sync spawn would block the emulator in this process). */
function mariadb(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('mariadb', args, { encoding: 'utf8', timeout: 15_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(
          new Error(
            `could not run the mariadb client (${err.code ?? err.message}); install it with: apt-get install mariadb-client`,
          ),
        )
        return
      }
      resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr })
    })
  })
}

describe.skipIf(!available)('mysql front: the real mariadb command-line client', () => {
  let emu: MysqlEmulator | undefined
  let dir: string | undefined
  afterEach(async () => {
    await emu?.stop()
    emu = undefined
    if (dir) await rm(dir, { recursive: true, force: true })
    dir = undefined
  })

  async function setup() {
    emu = await startMysqlEmulator()
    dir = await mkdtemp(join(tmpdir(), 'rds-iam-mysql-cli-'))
    const caFile = join(dir, 'emulator-ca.pem')
    await writeFile(caFile, emu.ca)
    // --enable-cleartext-plugin is accepted (and reported obsolete) by the 10.11 client, which
    // allows mysql_clear_password over TLS by default; older clients need it.
    const base = [
      '--protocol=tcp',
      '--host=localhost',
      `--port=${emu.port}`,
      '--ssl',
      `--ssl-ca=${caFile}`,
      '--ssl-verify-server-cert',
      '--enable-cleartext-plugin',
      '--batch',
      '--skip-column-names',
    ]
    return { emu, base }
  }

  it('logs in with a token over verified TLS and runs a query', async () => {
    const { emu, base } = await setup()
    const token = await signToken(emu, 'cli_user')
    const r = await mariadb([
      ...base,
      '--user=cli_user',
      `--password=${token}`,
      '-e',
      'select 40 + 2, database()',
      upstreamOptions().database as string,
    ])
    expect(r.stderr.replace(/^WARNING: option '--enable-cleartext-plugin' is obsolete\.\n/, '')).toBe('')
    expect(r.stdout.replace(/^WARNING.*\n/, '')).toBe(`42\t${upstreamOptions().database}\n`)
    expect(r.code).toBe(0)
    expect(emu.stats().accepted).toBe(1)
  })

  it("prints RDS's exact ERROR 1045 for a bad token", async () => {
    const { emu, base } = await setup()
    const r = await mariadb([...base, '--user=cli_user', '--password=not-a-token', '-e', 'select 1'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /^ERROR 1045 \(28000\): Access denied for user 'cli_user'@'(127\.0\.0\.1|::1)' \(using password: YES\)\n$/m,
    )
    expect(emu.stats().rejected.InvalidToken).toBe(1)
  })

  it('refuses the client with ERROR 1045 when it skips TLS', async () => {
    const { emu } = await setup()
    const token = await signToken(emu, 'cli_user')
    const r = await mariadb([
      '--protocol=tcp',
      '--host=127.0.0.1',
      `--port=${emu.port}`,
      '--skip-ssl',
      '--user=cli_user',
      `--password=${token}`,
      '-e',
      'select 1',
    ])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      "ERROR 1045 (28000): Access denied for user 'cli_user'@'127.0.0.1' (using password: YES)\n",
    )
    expect(emu.stats().accepted).toBe(0)
  })
})
