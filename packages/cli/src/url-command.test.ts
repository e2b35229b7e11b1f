import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { rdsTls } from '@rds-iam/core'
import { DsqlTokenVerifier, type Emulator, startEmulator, TokenVerifier } from '@rds-iam/emulator'
import { requireService, TEST_URLS } from '@rds-iam/test-services'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { main } from './cli-main.js'
import { bufferIo } from './test-support.js'
import { buildConnectionUrl, encodeUrlComponent } from './url-command.js'

// `rds-iam url` output fed to real clients: psql 15 (libpq parses the URL) against the emulator in
// front of PostgreSQL 15; for MySQL the URL is parsed back and its parts given to mysql2 and the
// mariadb 10.11 client (which takes no URL).
const run = promisify(execFile)
const wanted = (process.env.RDS_IAM_TEST_ENGINES ?? 'postgres,mysql').split(',').map((s) => s.trim())
const KEY = {
  accessKeyId: 'AKIAURLTEST000000001',
  secretAccessKey: `url/${randomBytes(12).toString('base64')}`,
}
const RDS_NAME = 'mydb.c9akciq32.us-east-1.rds.amazonaws.com'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rds-iam-url-'))
  await writeFile(join(dir, 'config'), '')
  await writeFile(join(dir, 'credentials'), '')
})
afterAll(async () => {
  vi.unstubAllEnvs()
  await rm(dir, { recursive: true, force: true })
})
beforeEach(() => {
  vi.unstubAllEnvs()
  vi.stubEnv('AWS_ACCESS_KEY_ID', KEY.accessKeyId)
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', KEY.secretAccessKey)
  vi.stubEnv('AWS_SESSION_TOKEN', undefined)
  vi.stubEnv('AWS_PROFILE', undefined)
  vi.stubEnv('AWS_REGION', undefined)
  vi.stubEnv('AWS_DEFAULT_REGION', undefined)
  vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'))
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'credentials'))
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true')
  vi.stubEnv('XDG_CACHE_HOME', join(dir, 'cache'))
})

async function url(args: string[]) {
  const b = bufferIo()
  const code = await main(['url', ...args], b.io)
  return { code, out: b.stdout(), err: b.stderr() }
}

/** The password of a URL, decoded the way clients decode it. */
function passwordOf(u: string): string {
  return decodeURIComponent(new URL(u).password)
}

describe('encodeUrlComponent / buildConnectionUrl', () => {
  it("percent-encodes & = / % ' and the rest so URL parsers give the token back unchanged", () => {
    const token = "host:5432/?Action=connect&DBUser=a%2Fb&X-Amz-Signature=ab+c/d=e'(f)*!"
    const u = buildConnectionUrl({
      engine: 'postgres',
      host: 'db.example.com',
      port: 5432,
      user: "o'neil@corp",
      token,
      database: 'my db',
      caFile: "/tmp/it's ca.pem",
    })
    expect(u).not.toMatch(/[' ]/)
    const parsed = new URL(u)
    expect(decodeURIComponent(parsed.username)).toBe("o'neil@corp")
    expect(decodeURIComponent(parsed.password)).toBe(token)
    expect(decodeURIComponent(parsed.pathname.slice(1))).toBe('my db')
    expect(parsed.searchParams.get('sslmode')).toBe('verify-full')
    expect(parsed.searchParams.get('sslrootcert')).toBe("/tmp/it's ca.pem")
    expect(encodeUrlComponent('a&b=c/d%e')).toBe('a%26b%3Dc%2Fd%25e')
  })

  it('mysql: ssl-mode=VERIFY_IDENTITY and ssl-ca; --prisma: sslaccept=strict and sslcert (postgres also sslmode=require)', () => {
    const parts = { host: 'h', port: 3306, user: 'u', token: 't&=', caFile: '/ca.pem' }
    const my = new URL(buildConnectionUrl({ ...parts, engine: 'mysql' }))
    expect(my.protocol).toBe('mysql:')
    expect([...my.searchParams]).toEqual([
      ['ssl-mode', 'VERIFY_IDENTITY'],
      ['ssl-ca', '/ca.pem'],
    ])
    const prismaMy = new URL(buildConnectionUrl({ ...parts, engine: 'mysql', prisma: true }))
    expect([...prismaMy.searchParams]).toEqual([
      ['sslaccept', 'strict'],
      ['sslcert', '/ca.pem'],
    ])
    const prismaPg = new URL(buildConnectionUrl({ ...parts, port: 5432, engine: 'postgres', prisma: true }))
    expect([...prismaPg.searchParams]).toEqual([
      ['sslmode', 'require'],
      ['sslaccept', 'strict'],
      ['sslcert', '/ca.pem'],
    ])
  })
})

describe('rds-iam url: CA file and usage', () => {
  it('without --ca-file the RDS bundle is written to a private cache directory the URL points to', async () => {
    const r = await url([
      '--host',
      'db.abc123.eu-west-1.rds.amazonaws.com',
      '--user',
      'app',
      '--engine',
      'postgres',
    ])
    expect(r.code).toBe(0)
    const caPath = join(dir, 'cache', 'rds-iam', 'rds-ca-bundle.pem')
    expect(new URL(r.out.trim()).searchParams.get('sslrootcert')).toBe(caPath)
    expect(await readFile(caPath, 'utf8')).toBe(`${rdsTls().ca.join('\n')}\n`)
    expect((await stat(join(dir, 'cache', 'rds-iam'))).mode & 0o777).toBe(0o700)
    expect(r.err).toMatch(/accepted for new connections until \d{4}-\d\d-\d\dT/)
    expect(r.err).toContain(`CA file ${caPath}`)
    expect(r.err).not.toContain(passwordOf(r.out.trim()))
  })

  it('--ca-file naming a missing file writes the RDS bundle there; a non-PEM file is refused (exit 2)', async () => {
    const target = join(dir, 'bundle-here.pem')
    const r = await url([
      '--host',
      'db.abc123.eu-west-1.rds.amazonaws.com',
      '--user',
      'app',
      '--engine',
      'mysql',
      '--ca-file',
      target,
    ])
    expect(r.code).toBe(0)
    expect(await readFile(target, 'utf8')).toContain('-----BEGIN CERTIFICATE-----')
    const junk = join(dir, 'junk.pem')
    await writeFile(junk, 'not a certificate')
    const bad = await url([
      '--host',
      'h.example.com',
      '--region',
      'us-east-1',
      '--user',
      'app',
      '--engine',
      'mysql',
      '--ca-file',
      junk,
    ])
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('holds no PEM certificate')
    expect(bad.out).toBe('')
  })

  it.each([
    [['--host', 'h', '--user', 'u'], 'missing --engine'],
    [['--host', 'h', '--user', 'u', '--engine', 'oracle'], '--engine must be postgres, mysql or dsql'],
    [['--host', 'h', '--user', 'u', '--engine', 'mysql', '--format', 'yaml'], '--format must be url or env'],
    [['--host', 'h', '--user', 'u', '--engine', 'mysql', '--port', '0'], '--port must be'],
  ])('usage error %j → exit 2 naming %s', async (args, needle) => {
    const r = await url(args)
    expect(r.code).toBe(2)
    expect(r.err).toContain(needle)
    expect(r.err).toContain('Usage: rds-iam url')
  })

  it.each(['postgres', 'mysql'])(
    '--prisma through a tunnel (%s) is a usage error: Prisma drops hostaddr and would connect to the RDS name; the /etc/hosts workaround is named',
    async (engine) => {
      const r = await url([
        '--host',
        '127.0.0.1',
        '--port',
        '15432',
        '--user',
        'app',
        '--engine',
        engine,
        '--signing-host',
        RDS_NAME,
        '--signing-port',
        '5432',
        '--prisma',
      ])
      expect(r.code).toBe(2)
      expect(r.out).toBe('')
      expect(r.err).toContain('--prisma cannot go through a tunnel')
      expect(r.err).toContain('Prisma ignores hostaddr')
      expect(r.err).toContain(`/etc/hosts (e.g. 127.0.0.1 ${RDS_NAME})`)
      expect(r.err).toContain(`--host ${RDS_NAME} --port <tunnel port>`)
      expect(r.err).toContain('Usage: rds-iam url')
      // The same host in both places is no tunnel: --prisma still prints its URL.
      const same = await url([
        '--host',
        RDS_NAME,
        '--signing-host',
        RDS_NAME,
        '--user',
        'app',
        '--engine',
        engine,
        '--prisma',
      ])
      expect(same.code).toBe(0)
      expect(new URL(same.out.trim()).searchParams.get('sslaccept')).toBe('strict')
      expect(new URL(same.out.trim()).searchParams.get('hostaddr')).toBeNull()
    },
  )

  it('no region → exit 1 with RDS_IAM_NO_REGION and --region', async () => {
    const r = await url(['--host', '127.0.0.1', '--user', 'u', '--engine', 'postgres'])
    expect(r.code).toBe(1)
    expect(r.err).toContain('RDS_IAM_NO_REGION')
    expect(r.err).toContain('--region')
    expect(r.out).toBe('')
  })
})

describe.runIf(wanted.includes('postgres'))('postgres: rds-iam url → psql', () => {
  let emu: Emulator
  let tunnel: Emulator
  let caFile: string
  let tunnelCaFile: string
  let available = true
  beforeAll(async () => {
    available = await requireService('postgres')
    if (!available) return
    emu = await startEmulator({ engine: 'postgres', upstream: TEST_URLS.postgres, credentials: [KEY] })
    tunnel = await startEmulator({
      engine: 'postgres',
      upstream: TEST_URLS.postgres,
      credentials: [KEY],
      endpoint: `${RDS_NAME}:5432`,
    })
    caFile = join(dir, 'pg-ca.pem')
    tunnelCaFile = join(dir, 'pg-tunnel-ca.pem')
    await writeFile(caFile, emu.ca)
    await writeFile(tunnelCaFile, tunnel.ca)
  }, 60_000)
  afterAll(async () => {
    await emu?.stop()
    await tunnel?.stop()
  })

  const psql = (conn: string) =>
    run('psql', [conn, '-XtAc', 'select 1'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      timeout: 20_000,
    })

  it('psql "<url>" -c "select 1" logs in with the token over verify-full TLS', async (ctx) => {
    if (!available) return ctx.skip()
    const r = await url([
      '--host',
      'localhost',
      '--port',
      String(emu.port),
      '--user',
      'app_user',
      '--engine',
      'postgres',
      '--database',
      'test',
      '--region',
      'us-east-1',
      '--ca-file',
      caFile,
    ])
    expect(r.code).toBe(0)
    const u = r.out.trim()
    expect(u.startsWith(`postgresql://app_user:localhost%3A${emu.port}%2F%3FAction%3Dconnect%26`)).toBe(true)
    expect(new URL(u).searchParams.get('sslmode')).toBe('verify-full')
    const verdict = new TokenVerifier({
      region: 'us-east-1',
      endpoint: emu.endpoint,
      credentials: [KEY],
    }).verify(passwordOf(u), 'app_user')
    expect(verdict.ok).toBe(true)
    const before = emu.stats().accepted
    const { stdout } = await psql(u)
    expect(stdout.trim()).toBe('1')
    expect(emu.stats().accepted).toBe(before + 1)
  })

  it('node-postgres takes the URL as connectionString (sslrootcert read, verify-full) and logs in', async (ctx) => {
    if (!available) return ctx.skip()
    const r = await url([
      '--host',
      'localhost',
      '--port',
      String(emu.port),
      '--user',
      'app_user',
      '--engine',
      'postgres',
      '--region',
      'us-east-1',
      '--ca-file',
      caFile,
    ])
    const client = new pg.Client({ connectionString: r.out.trim() })
    await client.connect()
    try {
      expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }])
    } finally {
      await client.end()
    }
  })

  it("--format env: DATABASE_URL='…' sourced by a shell and used by psql", async (ctx) => {
    if (!available) return ctx.skip()
    const r = await url([
      '--host',
      'localhost',
      '--port',
      String(emu.port),
      '--user',
      'app_user',
      '--engine',
      'postgres',
      '--region',
      'us-east-1',
      '--ca-file',
      caFile,
      '--format',
      'env',
    ])
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^DATABASE_URL='postgresql:\/\/[^']+'\n$/)
    const envFile = join(dir, 'db.env')
    await writeFile(envFile, r.out)
    const { stdout } = await run(
      'bash',
      ['-c', 'set -a; . "$1"; psql "$DATABASE_URL" -XtAc "select 1"', 'bash', envFile],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        timeout: 20_000,
      },
    )
    expect(stdout.trim()).toBe('1')
  })

  it('through a tunnel (--signing-host): the URL names the RDS host, hostaddr the tunnel; psql verifies and logs in', async (ctx) => {
    if (!available) return ctx.skip()
    const r = await url([
      '--host',
      '127.0.0.1',
      '--port',
      String(tunnel.port),
      '--signing-host',
      RDS_NAME,
      '--signing-port',
      '5432',
      '--user',
      'app_user',
      '--engine',
      'postgres',
      '--ca-file',
      tunnelCaFile,
    ])
    expect(r.code).toBe(0)
    const u = new URL(r.out.trim())
    expect(u.hostname).toBe(RDS_NAME)
    expect(u.port).toBe(String(tunnel.port))
    expect(u.searchParams.get('hostaddr')).toBe('127.0.0.1')
    const { stdout } = await psql(r.out.trim())
    expect(stdout.trim()).toBe('1')
  })

  it('the wrong CA file makes psql refuse before sending the token', async (ctx) => {
    if (!available) return ctx.skip()
    const r = await url([
      '--host',
      'localhost',
      '--port',
      String(emu.port),
      '--user',
      'app_user',
      '--engine',
      'postgres',
      '--region',
      'us-east-1',
      '--ca-file',
      tunnelCaFile,
    ])
    const before = emu.stats()
    await expect(psql(r.out.trim())).rejects.toMatchObject({
      stderr: expect.stringContaining('certificate verify failed'),
    })
    expect(emu.stats().accepted).toBe(before.accepted)
    expect(emu.stats().rejected.InvalidToken).toBe(before.rejected.InvalidToken)
  })
})

// Aurora DSQL: the DSQL emulator in front of PostgreSQL 15, the URL fed to psql.
const DSQL_HOST = 'abcdefghijklmnopqrst.dsql.us-east-1.on.aws'
describe.runIf(wanted.includes('postgres'))('dsql: rds-iam url → psql', () => {
  let emu: Emulator
  let local: Emulator
  let caFile: string
  let localCaFile: string
  let available = true
  beforeAll(async () => {
    available = await requireService('postgres')
    if (!available) return
    emu = await startEmulator({
      engine: 'dsql',
      endpoint: DSQL_HOST,
      upstream: TEST_URLS.postgres,
      credentials: [KEY],
      roles: { app_role: [KEY.accessKeyId] },
    })
    // A DSQL cluster behind a name that does not show it (here localhost): --service dsql.
    local = await startEmulator({ engine: 'dsql', upstream: TEST_URLS.postgres, credentials: [KEY] })
    caFile = join(dir, 'dsql-ca.pem')
    localCaFile = join(dir, 'dsql-local-ca.pem')
    await writeFile(caFile, emu.ca)
    await writeFile(localCaFile, local.ca)
  }, 60_000)
  afterAll(async () => {
    await emu?.stop()
    await local?.stop()
  })

  const psql = (conn: string) =>
    run('psql', [conn, '-XtAc', 'select current_database()'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      timeout: 20_000,
    })

  it('role admin through a tunnel: DbConnectAdmin token for the host alone, database postgres, psql logs in', async (ctx) => {
    if (!available) return ctx.skip()
    const r = await url([
      '--host',
      '127.0.0.1',
      '--port',
      String(emu.port),
      '--signing-host',
      DSQL_HOST,
      '--user',
      'admin',
      '--ca-file',
      caFile,
    ])
    expect(r.err).toContain(`rds-iam: Aurora DSQL token for role admin@${DSQL_HOST} accepted`)
    expect(r.code).toBe(0)
    const u = new URL(r.out.trim())
    expect(u.hostname).toBe(DSQL_HOST)
    expect(u.pathname).toBe('/postgres')
    expect(u.searchParams.get('hostaddr')).toBe('127.0.0.1')
    const token = passwordOf(r.out.trim())
    expect(token.startsWith(`${DSQL_HOST}/?Action=DbConnectAdmin&`)).toBe(true)
    expect(token).not.toContain('DBUser')
    expect(token).toContain('X-Amz-Expires=900&')
    const verdict = new DsqlTokenVerifier({
      region: 'us-east-1',
      host: DSQL_HOST,
      credentials: [KEY],
    }).verify(token, 'admin')
    expect(verdict.ok).toBe(true)
    const before = emu.stats().accepted
    const { stdout } = await psql(r.out.trim())
    expect(stdout.trim()).toBe('postgres')
    expect(emu.stats().accepted).toBe(before + 1)
  })

  it('a mapped role gets a DbConnect token psql logs in with; --database is kept', async (ctx) => {
    if (!available) return ctx.skip()
    const r = await url([
      '--host',
      '127.0.0.1',
      '--port',
      String(emu.port),
      '--signing-host',
      DSQL_HOST,
      '--user',
      'app_role',
      '--database',
      'test',
      '--ca-file',
      caFile,
    ])
    expect(r.code).toBe(0)
    expect(passwordOf(r.out.trim()).startsWith(`${DSQL_HOST}/?Action=DbConnect&`)).toBe(true)
    const { stdout } = await psql(r.out.trim())
    expect(stdout.trim()).toBe('test')
  })

  it('--service dsql for a host that does not show it, and --expires-in: psql logs in with that token', async (ctx) => {
    if (!available) return ctx.skip()
    const r = await url([
      '--host',
      'localhost',
      '--port',
      String(local.port),
      '--service',
      'dsql',
      '--region',
      'us-east-1',
      '--user',
      'admin',
      '--expires-in',
      '3600',
      '--ca-file',
      localCaFile,
    ])
    expect(r.code).toBe(0)
    const token = passwordOf(r.out.trim())
    expect(token.startsWith('localhost/?Action=DbConnectAdmin&')).toBe(true)
    expect(token).toContain('X-Amz-Expires=3600&')
    const { stdout } = await psql(r.out.trim())
    expect(stdout.trim()).toBe('postgres')
    // --engine dsql, the spelling of `rds-iam token` and `rds-iam emulator`, means the same.
    const short = await url([
      '--host',
      'localhost',
      '--port',
      String(local.port),
      '--engine',
      'dsql',
      '--region',
      'us-east-1',
      '--user',
      'admin',
      '--ca-file',
      localCaFile,
    ])
    expect(short.code).toBe(0)
    expect(passwordOf(short.out.trim()).startsWith('localhost/?Action=DbConnectAdmin&')).toBe(true)
    expect((await psql(short.out.trim())).stdout.trim()).toBe('postgres')
  })

  it('usage errors (exit 2): --engine mysql with a DSQL host, --expires-in for RDS or out of range, a bad --service', async () => {
    const common = ['--user', 'admin', '--region', 'us-east-1']
    const mysqlDsql = await url(['--host', DSQL_HOST, '--engine', 'mysql', ...common])
    expect(mysqlDsql.code).toBe(2)
    expect(mysqlDsql.out).toBe('')
    expect(mysqlDsql.err).toContain(`${DSQL_HOST} is an Aurora DSQL cluster, which speaks PostgreSQL only`)
    const forced = await url(['--host', 'localhost', '--service', 'dsql', '--engine', 'mysql', ...common])
    expect(forced.code).toBe(2)
    expect(forced.err).toContain('drop --service dsql')
    const rdsExpiry = await url(['--host', RDS_NAME, '--engine', 'postgres', '--expires-in', '60', ...common])
    expect(rdsExpiry.code).toBe(2)
    expect(rdsExpiry.err).toContain('--expires-in applies to Aurora DSQL only')
    const tooLong = await url(['--host', DSQL_HOST, '--expires-in', '604801', ...common])
    expect(tooLong.code).toBe(2)
    expect(tooLong.err).toContain('--expires-in must be a whole number of seconds from 1 to 604800')
    const service = await url(['--host', DSQL_HOST, '--service', 'aurora', ...common])
    expect(service.code).toBe(2)
    expect(service.err).toContain('--service must be rds or dsql, got "aurora"')
    const contradiction = await url(['--host', DSQL_HOST, '--engine', 'dsql', '--service', 'rds', ...common])
    expect(contradiction.code).toBe(2)
    expect(contradiction.err).toContain('--engine dsql contradicts --service rds')
  })
})

describe.runIf(wanted.includes('mysql'))(
  'mysql: rds-iam url parsed back, used by mysql2 and the mariadb client',
  () => {
    let emu: Emulator
    let caFile: string
    let available = true
    beforeAll(async () => {
      available = await requireService('mysql')
      if (!available) return
      emu = await startEmulator({ engine: 'mysql', upstream: TEST_URLS.mysql, credentials: [KEY] })
      caFile = join(dir, 'my-ca.pem')
      await writeFile(caFile, emu.ca)
    }, 60_000)
    afterAll(async () => {
      await emu?.stop()
    })

    async function mysqlUrl() {
      const r = await url([
        '--host',
        'localhost',
        '--port',
        String(emu.port),
        '--user',
        'app_user',
        '--engine',
        'mysql',
        '--database',
        'test',
        '--region',
        'us-east-1',
        '--ca-file',
        caFile,
      ])
      expect(r.code).toBe(0)
      const u = new URL(r.out.trim())
      return {
        url: u,
        host: u.hostname,
        port: Number(u.port),
        user: decodeURIComponent(u.username),
        token: passwordOf(r.out.trim()),
        database: decodeURIComponent(u.pathname.slice(1)),
        ca: u.searchParams.get('ssl-ca') ?? '',
      }
    }

    it('parses back to the parts, with a token the emulator accepts, and mysql2 logs in with them', async (ctx) => {
      if (!available) return ctx.skip()
      const p = await mysqlUrl()
      expect(p.url.protocol).toBe('mysql:')
      expect(p.url.searchParams.get('ssl-mode')).toBe('VERIFY_IDENTITY')
      expect(p).toMatchObject({
        host: 'localhost',
        port: emu.port,
        user: 'app_user',
        database: 'test',
        ca: caFile,
      })
      const conn = await mysql.createConnection({
        host: p.host,
        port: p.port,
        user: p.user,
        database: p.database,
        ssl: { ca: await readFile(p.ca, 'utf8'), rejectUnauthorized: true, verifyIdentity: true },
        authPlugins: { mysql_clear_password: () => () => Buffer.from(`${p.token}\0`) },
      })
      try {
        const [rows] = await conn.query('select 1 as ok')
        expect(rows).toEqual([{ ok: 1 }])
      } finally {
        await conn.end()
      }
    })

    it('the mariadb client (no URL support) logs in with the parsed parts and verifies the server', async (ctx) => {
      if (!available) return ctx.skip()
      const p = await mysqlUrl()
      const { stdout } = await run(
        'mariadb',
        [
          `--host=${p.host}`,
          `--port=${p.port}`,
          `--user=${p.user}`,
          `--password=${p.token}`,
          `--ssl-ca=${p.ca}`,
          '--ssl-verify-server-cert',
          '-N',
          '-e',
          'select 1',
          p.database,
        ],
        { env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeout: 20_000 },
      )
      expect(stdout.trim()).toBe('1')
    })
  },
)
