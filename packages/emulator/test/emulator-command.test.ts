import { execFile } from 'node:child_process'
import { access, readFile } from 'node:fs/promises'
import { Writable } from 'node:stream'
import { DsqlSigner } from '@aws-sdk/dsql-signer'
import { Signer } from '@aws-sdk/rds-signer'
import pg from 'pg'
import { describe, expect, it, vi } from 'vitest'
import { runEmulatorCommand } from '../src/index.js'
import { MYSQL_URL, requireMysql } from './fixtures/mysql-env.js'
import { PG_URL, requirePostgres } from './fixtures/pg-env.js'

const pgReachable = await requirePostgres(PG_URL)
const mysqlReachable = await requireMysql(MYSQL_URL)

/** Starts the command; resolves once it printed its banner. The caller aborts `controller`. */
async function startCommand(argv: string[]) {
  const out = capture()
  const err = capture()
  const controller = new AbortController()
  const running = runEmulatorCommand(argv, {
    stdout: out.stream,
    stderr: err.stream,
    signal: controller.signal,
  })
  await vi.waitFor(() => expect(out.text()).toContain('Press Ctrl+C to stop.'), { timeout: 20_000 })
  return { out, err, controller, running }
}

/** The printed client command (the line after "Connect …"). */
function connectLine(output: string): string {
  const lines = output.split('\n')
  return lines[lines.findIndex((l) => l.startsWith('Connect')) + 1]!.trim()
}

/** Runs `script` in bash; `rds-iam` inside it is a function printing `token` (after checking its arguments). */
function bash(script: string, rdsIamArgs: string, token: string) {
  const stub = `rds-iam() { [ "$*" = ${JSON.stringify(rdsIamArgs)} ] || { echo "unexpected rds-iam $*" >&2; exit 9; }; printf '%s' ${JSON.stringify(token)}; }`
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      'bash',
      ['-c', `${stub}\n${script}`],
      { encoding: 'utf8', timeout: 20_000 },
      (e, stdout, stderr) =>
        resolve({ code: typeof e?.code === 'number' ? e.code : e ? -1 : 0, stdout, stderr }),
    )
  })
}

function capture(): { stream: Writable; text(): string } {
  let text = ''
  return {
    stream: new Writable({
      write(chunk, _enc, cb) {
        text += String(chunk)
        cb()
      },
    }),
    text: () => text,
  }
}

function field(output: string, name: string): string {
  const match = new RegExp(`^  ${name}\\s+(\\S+)$`, 'm').exec(output)
  if (match === null) throw new Error(`no ${name} in output:\n${output}`)
  return match[1]!
}

describe('runEmulatorCommand', () => {
  it('prints usage for --help and exits 0', async () => {
    const out = capture()
    const err = capture()
    expect(await runEmulatorCommand(['--help'], { stdout: out.stream, stderr: err.stream })).toBe(0)
    expect(out.text()).toContain('--engine postgres|mysql')
  })

  it.each([[[]], [['--engine', 'oracle']], [['--engine', 'postgres', '--port', 'x']], [['--bogus']]])(
    'exits 2 with usage on bad arguments %j',
    async (argv) => {
      const out = capture()
      const err = capture()
      expect(await runEmulatorCommand(argv, { stdout: out.stream, stderr: err.stream })).toBe(2)
      expect(err.text()).toMatch(/rds-iam emulator: /)
    },
  )

  it('exits 1 with a clear message for an upstream that is not a URL', async () => {
    const out = capture()
    const err = capture()
    const code = await runEmulatorCommand(['--engine', 'postgres', '--upstream', 'nonsense'], {
      stdout: out.stream,
      stderr: err.stream,
    })
    expect(code).toBe(1)
    expect(err.text()).toContain('upstream is not a URL')
  })

  it.skipIf(!pgReachable)(
    'starts, prints endpoint, CA file and a working test key, logs logins, and stops on abort',
    async () => {
      const out = capture()
      const err = capture()
      const controller = new AbortController()
      const running = runEmulatorCommand(
        ['--engine', 'postgres', '--upstream', PG_URL, '--region', 'eu-central-1'],
        {
          stdout: out.stream,
          stderr: err.stream,
          signal: controller.signal,
        },
      )
      try {
        await vi.waitFor(() => expect(out.text()).toContain('Press Ctrl+C to stop.'), { timeout: 10_000 })
        const text = out.text()
        const [host, port] = field(text, 'endpoint').split(':') as [string, string]
        const caFile = field(text, 'CA file')
        expect(field(text, 'region')).toBe('eu-central-1')
        expect(text).toContain(`sslmode=verify-full sslrootcert=${caFile}`)
        const ca = await readFile(caFile, 'utf8')
        expect(ca).toContain('BEGIN CERTIFICATE')

        const credentials = {
          accessKeyId: field(text, 'access key id'),
          secretAccessKey: field(text, 'secret access key'),
        }
        const token = await new Signer({
          hostname: host,
          port: Number(port),
          username: 'app_user',
          region: 'eu-central-1',
          credentials,
        }).getAuthToken()
        const client = new pg.Client({
          host,
          port: Number(port),
          user: 'app_user',
          password: token,
          database: 'test',
          ssl: { ca, rejectUnauthorized: true },
        })
        await client.connect()
        expect((await client.query('select 7 as seven')).rows).toEqual([{ seven: 7 }])
        await client.end()
        expect(out.text()).toContain('IAM authentication succeeded for user "app_user"')
        expect(out.text()).not.toContain(token)

        controller.abort()
        expect(await running).toBe(0)
        await expect(access(caFile)).rejects.toThrow()
        expect(err.text()).toBe('')
      } finally {
        controller.abort()
        await running
      }
    },
    30_000,
  )

  it('refuses an --endpoint that is not host:port with exit code 2', async () => {
    for (const endpoint of ['mydb.example.com', 'mydb:0', 'mydb:99999', 'a b:5432']) {
      const out = capture()
      const err = capture()
      const argv = ['--engine', 'postgres', '--endpoint', endpoint]
      expect(await runEmulatorCommand(argv, { stdout: out.stream, stderr: err.stream })).toBe(2)
      expect(err.text()).toContain('--endpoint must be host:port')
    }
  })

  it.skipIf(!pgReachable)(
    '--endpoint: tokens signed for the RDS name work through the local port (the tunnel case)',
    async () => {
      const rds = 'mydb.abc123.eu-west-1.rds.amazonaws.com'
      const cmd = await startCommand([
        '--engine',
        'postgres',
        '--upstream',
        PG_URL,
        '--endpoint',
        `${rds}:5432`,
      ])
      try {
        const text = cmd.out.text()
        const [host, port] = field(text, 'listening on').split(':') as [string, string]
        expect(text).toContain(`  endpoint           ${rds}:5432 (tokens are signed for this)`)
        expect(connectLine(text)).toContain(`rds-iam token --hostname ${rds} --port 5432 --username app`)
        expect(connectLine(text)).toContain(`host=${host} port=${port}`)
        const credentials = {
          accessKeyId: field(text, 'access key id'),
          secretAccessKey: field(text, 'secret access key'),
        }
        const sign = (hostname: string, p: number) =>
          new Signer({
            hostname,
            port: p,
            username: 'app_user',
            region: 'us-east-1',
            credentials,
          }).getAuthToken()
        const ca = await readFile(field(text, 'CA file'), 'utf8')
        const connect = async (password: string) => {
          const client = new pg.Client({
            host,
            port: Number(port),
            user: 'app_user',
            password,
            database: 'test',
            ssl: { ca, rejectUnauthorized: true },
          })
          client.on('error', () => {})
          try {
            await client.connect()
            return (await client.query('select 1 as one')).rows
          } finally {
            await client.end().catch(() => {})
          }
        }
        expect(await connect(await sign(rds, 5432))).toEqual([{ one: 1 }])
        // A token signed for the local address is not one RDS would accept here.
        await expect(connect(await sign(host, Number(port)))).rejects.toThrow('PAM authentication failed')
      } finally {
        cmd.controller.abort()
        expect(await cmd.running).toBe(0)
      }
    },
    30_000,
  )

  it.skipIf(!mysqlReachable)(
    'the printed mariadb command logs in with no warning on stderr',
    async () => {
      const cmd = await startCommand(['--engine', 'mysql', '--upstream', MYSQL_URL])
      try {
        const text = cmd.out.text()
        const [host, port] = field(text, 'listening on').split(':') as [string, string]
        const line = connectLine(text)
        expect(line).toMatch(/^mariadb /)
        expect(line).not.toContain('--enable-cleartext-plugin')
        const token = await new Signer({
          hostname: host,
          port: Number(port),
          username: 'app',
          region: 'us-east-1',
          credentials: {
            accessKeyId: field(text, 'access key id'),
            secretAccessKey: field(text, 'secret access key'),
          },
        }).getAuthToken()
        const r = await bash(
          `${line} --batch --skip-column-names -e 'select 40 + 2'`,
          `token --hostname ${host} --port ${port} --username app --region us-east-1`,
          token,
        )
        expect(r.stderr).toBe('')
        expect(r.stdout).toBe('42\n')
        expect(r.code).toBe(0)
      } finally {
        cmd.controller.abort()
        expect(await cmd.running).toBe(0)
      }
    },
    30_000,
  )

  it.each([[['--engine', 'dsql', '--proxy']], [['--engine', 'dsql', '--endpoint', 'http://x']]])(
    'exits 2 on dsql misuse %j',
    async (argv) => {
      const out = capture()
      const err = capture()
      expect(await runEmulatorCommand(argv, { stdout: out.stream, stderr: err.stream })).toBe(2)
      expect(err.text()).toMatch(/rds-iam emulator: /)
    },
  )

  it.skipIf(!pgReachable)(
    '--engine dsql: the printed token command and psql command log in as admin with a DSQL token',
    async () => {
      const cluster = 'abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws'
      const cmd = await startCommand(['--engine', 'dsql', '--endpoint', cluster, '--upstream', PG_URL])
      try {
        const text = cmd.out.text()
        expect(text).toContain('rds-iam emulator (Aurora DSQL) is listening')
        expect(text).toContain(`  endpoint           ${cluster} (tokens are signed for this)`)
        expect(field(text, 'region')).toBe('eu-west-1')
        const line = connectLine(text)
        expect(line).toMatch(/^PGPASSWORD=.* psql .*user=admin /)
        const token = await new DsqlSigner({
          hostname: cluster,
          region: 'eu-west-1',
          credentials: {
            accessKeyId: field(text, 'access key id'),
            secretAccessKey: field(text, 'secret access key'),
          },
        }).getDbConnectAdminAuthToken()
        const r = await bash(
          `${line} -tAc 'select 40 + 2'`,
          `token --engine dsql --hostname ${cluster} --username admin --region eu-west-1`,
          token,
        )
        expect(r.stderr).toBe('')
        expect(r.stdout).toBe('42\n')
        expect(r.code).toBe(0)
      } finally {
        cmd.controller.abort()
        expect(await cmd.running).toBe(0)
      }
    },
    30_000,
  )

  it.skipIf(!pgReachable)('--proxy prints that it stands in for RDS Proxy', async () => {
    const cmd = await startCommand(['--engine', 'postgres', '--proxy', '--upstream', PG_URL])
    try {
      expect(cmd.out.text()).toContain('rds-iam emulator (postgres, as RDS Proxy) is listening')
    } finally {
      cmd.controller.abort()
      expect(await cmd.running).toBe(0)
    }
  })
})
