import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requirePeer } from '@rds-iam/core'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { requireService, TEST_URLS } from '@rds-iam/test-services'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { main } from './cli-main.js'
import { type DoctorReport, runDoctor } from './doctor-command.js'
import { bufferIo } from './test-support.js'

// `rds-iam doctor` against the emulator in front of real PostgreSQL 15 and MariaDB 10.11, one
// failure the emulator (or a plain server) can produce per test. Credentials reach the CLI the way
// they reach users: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, read by the default chain.
type Engine = 'postgres' | 'mysql'
const wanted = (process.env.RDS_IAM_TEST_ENGINES ?? 'postgres,mysql').split(',').map((s) => s.trim())
const ENGINES = (['postgres', 'mysql'] as const).filter((e) => wanted.includes(e))

const KEY = {
  accessKeyId: 'AKIADOCTORTEST000001',
  secretAccessKey: `doctor/${randomBytes(12).toString('base64')}`,
}
const DENIED_KEY = {
  accessKeyId: 'AKIADOCTORDENIED0002',
  secretAccessKey: `denied+${randomBytes(12).toString('hex')}`,
}
// A session that has ended: the emulator refuses its tokens as ExpiredToken, deterministically
// (maxTokenAge(0) cannot: a token signed and used within the same second is 0 s old).
const EXPIRED_KEY = {
  accessKeyId: 'ASIADOCTOREXPIRED003',
  secretAccessKey: `expired=${randomBytes(12).toString('hex')}`,
  sessionToken: `session/${randomBytes(24).toString('base64')}`,
  expiration: new Date(Date.now() - 60_000),
}
const RDS_NAME = 'mydb.c9akciq32.us-east-1.rds.amazonaws.com'
const DEFAULT_PORT: Record<Engine, number> = { postgres: 5432, mysql: 3306 }

let dir: string
let closedPort: number
let sts: Server
let stsUrl: string
let stsAnswer: 'identity' | 'invalid-key' = 'identity'
/** The ARN STS answers with (an IAM user, or an assumed-role session). */
let stsArn = 'arn:aws:iam::123456789012:user/doctor'
/** Added to the Date header STS sends (simulates a local clock that is off). */
let stsClockOffsetMs = 0

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rds-iam-doctor-'))
  await writeFile(join(dir, 'config'), '')
  await writeFile(join(dir, 'credentials'), '')
  // A port nothing listens on: bind, read the number, close.
  const probe = createTcpServer()
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
  closedPort = (probe.address() as { port: number }).port
  await new Promise((r) => probe.close(r))
  // A local stand-in for STS's GetCallerIdentity (the query protocol's XML), so the identity line
  // and an AWS refusal can be tested offline. Not a database: nothing here talks SQL.
  sts = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (stsAnswer === 'invalid-key') {
        res.writeHead(403, { 'content-type': 'text/xml' })
        res.end(
          '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>r1</RequestId></ErrorResponse>',
        )
        return
      }
      res.writeHead(200, {
        'content-type': 'text/xml',
        date: new Date(Date.now() + stsClockOffsetMs).toUTCString(),
      })
      res.end(
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${stsArn}</Arn><UserId>AIDADOCTOR</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      )
    })
  })
  await new Promise<void>((r) => sts.listen(0, '127.0.0.1', r))
  stsUrl = `http://127.0.0.1:${(sts.address() as { port: number }).port}`
})
afterAll(async () => {
  vi.unstubAllEnvs()
  await new Promise((r) => sts.close(r))
  await rm(dir, { recursive: true, force: true })
})

function useKey(key: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined) {
  vi.stubEnv('AWS_ACCESS_KEY_ID', key?.accessKeyId)
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', key?.secretAccessKey)
  vi.stubEnv('AWS_SESSION_TOKEN', key?.sessionToken)
}

beforeEach(() => {
  vi.unstubAllEnvs()
  stsArn = 'arn:aws:iam::123456789012:user/doctor'
  useKey(KEY)
  vi.stubEnv('AWS_SESSION_TOKEN', undefined)
  vi.stubEnv('AWS_PROFILE', undefined)
  vi.stubEnv('AWS_REGION', undefined)
  vi.stubEnv('AWS_DEFAULT_REGION', undefined)
  vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'))
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'credentials'))
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true')
  // The STS client warns once about Node 20's end of support; warnings fail this test run.
  vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true')
  vi.stubEnv('AWS_CONTAINER_CREDENTIALS_FULL_URI', undefined)
  vi.stubEnv('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', undefined)
  vi.stubEnv('AWS_WEB_IDENTITY_TOKEN_FILE', undefined)
  // Offline by default: STS is a closed local port, so the identity check says it was skipped.
  vi.stubEnv('AWS_ENDPOINT_URL_STS', `http://127.0.0.1:${closedPort}`)
})

async function doctor(args: string[]) {
  const b = bufferIo()
  const code = await main(['doctor', ...args], b.io)
  return { code, out: b.stdout(), err: b.stderr() }
}

async function doctorJson(args: string[]) {
  const r = await doctor([...args, '--json'])
  expect(r.err).toBe('')
  const report = JSON.parse(r.out) as DoctorReport
  const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]))
  return { ...r, report, check: (name: string) => byName[name] ?? { status: 'absent', detail: '', fix: '' } }
}

function expectNoSecrets(text: string, key = KEY) {
  expect(text).not.toContain(key.secretAccessKey)
  expect(text).not.toContain(key.accessKeyId)
  expect(text).not.toContain('X-Amz-Signature')
  expect(text).not.toContain('X-Amz-Credential')
}

describe.each(ENGINES)('%s: rds-iam doctor against the emulator', (engine) => {
  let emu: Emulator
  let tunnel: Emulator
  let caFile: string
  let tunnelCaFile: string
  let available = true
  const upstream = TEST_URLS[engine]

  beforeAll(async () => {
    available = await requireService(engine)
    if (!available) return
    const common = {
      engine,
      upstream,
      credentials: [KEY, DENIED_KEY, EXPIRED_KEY],
      policy: [
        { accessKeyId: KEY.accessKeyId, users: ['*'] },
        { accessKeyId: EXPIRED_KEY.accessKeyId, users: ['*'] },
        { accessKeyId: DENIED_KEY.accessKeyId, users: ['someone_else'] },
      ],
    }
    emu = await startEmulator(common)
    // The tunnel case: tokens must be signed for the RDS name while clients connect to 127.0.0.1.
    tunnel = await startEmulator({ ...common, endpoint: `${RDS_NAME}:${DEFAULT_PORT[engine]}` })
    caFile = join(dir, `${engine}-ca.pem`)
    tunnelCaFile = join(dir, `${engine}-tunnel-ca.pem`)
    await writeFile(caFile, emu.ca)
    await writeFile(tunnelCaFile, tunnel.ca)
  }, 60_000)
  afterAll(async () => {
    await emu?.stop()
    await tunnel?.stop()
  })

  const base = () => [
    '--engine',
    engine,
    '--host',
    'localhost',
    '--port',
    String(emu.port),
    '--user',
    'app_user',
    '--region',
    'us-east-1',
    '--ca',
    caFile,
  ]

  it('healthy: every check passes, exit 0, text has one line per check and no secret', async (ctx) => {
    if (!available) return ctx.skip()
    const before = emu.stats().accepted
    const r = await doctor(base())
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const lines = r.out.trim().split('\n')
    expect(lines[0]).toContain(`rds-iam doctor: ${engine} app_user@localhost:${emu.port}`)
    for (const name of ['region', 'credentials', 'token', 'dns', 'tcp', 'tls', 'login', 'query']) {
      expect(lines.some((l) => l.startsWith(`✓ ${name}`))).toBe(true)
    }
    expect(r.out).toMatch(/– identity\s+skipped: STS not reachable/)
    expect(r.out).toContain(`key …${KEY.accessKeyId.slice(-4)}`)
    expect(r.out).toContain('environment variables (AWS_ACCESS_KEY_ID)')
    expect(r.out).toContain('select 1 returned 1')
    expect(r.out.trim().endsWith('all checks passed')).toBe(true)
    expectNoSecrets(r.out)
    expect(emu.stats().accepted).toBe(before + 1)
  })

  it('--json: one document with every check in order', async (ctx) => {
    if (!available) return ctx.skip()
    const r = await doctorJson(base())
    expect(r.code).toBe(0)
    expect(r.report.ok).toBe(true)
    expect(r.report.checks.map((c) => c.name)).toEqual([
      'region',
      'credentials',
      'identity',
      'token',
      'dns',
      'tcp',
      'tls',
      'login',
      'query',
    ])
    expect(r.check('identity').status).toBe('skip')
    expect(r.check('token').detail).toMatch(
      /^\d{3,5} characters, signed for app_user@localhost:\d+ in us-east-1, valid until /,
    )
    expectNoSecrets(r.out)
  })

  it('identity from STS when it answers, and its account in the policy hint', async (ctx) => {
    if (!available) return ctx.skip()
    vi.stubEnv('AWS_ENDPOINT_URL_STS', stsUrl)
    stsAnswer = 'identity'
    const r = await doctorJson([...base(), '--region', 'eu-west-1'])
    expect(r.check('identity')).toMatchObject({
      status: 'pass',
      detail: 'arn:aws:iam::123456789012:user/doctor (account 123456789012)',
    })
    expect(r.check('login').status).toBe('fail')
    expect(r.check('login').fix).toContain('arn:aws:rds-db:eu-west-1:123456789012:dbuser:')
  })

  it('a local clock an hour off AWS (STS Date header) → token ✗ naming the skew', async (ctx) => {
    if (!available) return ctx.skip()
    vi.stubEnv('AWS_ENDPOINT_URL_STS', stsUrl)
    stsAnswer = 'identity'
    stsClockOffsetMs = -3_600_000
    try {
      const r = await doctorJson(base())
      expect(r.code).toBe(1)
      expect(r.check('token').status).toBe('fail')
      expect(r.check('token').detail).toMatch(/the local clock is 3\d{3} s ahead of AWS/)
      expect(r.check('token').fix).toContain('sync the clock')
    } finally {
      stsClockOffsetMs = 0
    }
  })

  it('STS refuses the key → identity ✗ naming the key by its last 4 characters', async (ctx) => {
    if (!available) return ctx.skip()
    vi.stubEnv('AWS_ENDPOINT_URL_STS', stsUrl)
    stsAnswer = 'invalid-key'
    const r = await doctorJson(base())
    expect(r.code).toBe(1)
    expect(r.check('identity').status).toBe('fail')
    expect(r.check('identity').detail).toContain('InvalidClientTokenId')
    expect(r.check('identity').fix).toContain(`…${KEY.accessKeyId.slice(-4)}`)
    expectNoSecrets(r.out)
  })

  it('wrong region → login ✗ with the region among the causes', async (ctx) => {
    if (!available) return ctx.skip()
    const before = emu.stats().rejected.InvalidToken
    const r = await doctorJson([...base(), '--region', 'eu-west-1'])
    expect(r.code).toBe(1)
    expect(r.check('region').detail).toContain('cannot be cross-checked')
    expect(r.check('login').status).toBe('fail')
    expect(r.check('login').detail).toMatch(
      engine === 'postgres' ? /PAM authentication failed.*28000/ : /Access denied.*1045/,
    )
    expect(r.check('login').fix).toContain('signed for region eu-west-1 (--region)')
    expect(r.check('query').status).toBe('skip')
    expect(emu.stats().rejected.InvalidToken).toBe(before + 1)
  })

  it('region on the hostname disagrees with --region → region ✗', async (ctx) => {
    if (!available) return ctx.skip()
    const r = await doctorJson([...base(), '--signing-host', RDS_NAME, '--region', 'eu-west-1'])
    expect(r.check('region').status).toBe('fail')
    expect(r.check('region').detail).toContain(`${RDS_NAME} is in us-east-1`)
  })

  it('policy-denied key → login ✗ pointing at the rds-db:connect policy', async (ctx) => {
    if (!available) return ctx.skip()
    useKey(DENIED_KEY)
    const before = emu.stats().rejected.NotAuthorized
    const r = await doctorJson(base())
    expect(r.code).toBe(1)
    expect(r.check('token').status).toBe('pass')
    expect(r.check('login').status).toBe('fail')
    expect(r.check('login').fix).toContain('rds-db:connect on arn:aws:rds-db:us-east-1:<account>:dbuser:')
    expect(r.check('login').fix).toContain('/app_user')
    expect(emu.stats().rejected.NotAuthorized).toBe(before + 1)
    expectNoSecrets(r.out, DENIED_KEY)
  })

  it('expired token (the signing session ended) → login ✗ with clock and expired session among the causes', async (ctx) => {
    if (!available) return ctx.skip()
    useKey(EXPIRED_KEY)
    const before = emu.stats().rejected.ExpiredToken
    const r = await doctorJson(base())
    expect(r.code).toBe(1)
    expect(r.check('credentials').detail).toContain('(temporary')
    expect(r.check('token').status).toBe('pass')
    expect(r.check('login').status).toBe('fail')
    expect(r.check('login').fix).toContain('the local clock is wrong')
    expect(r.check('login').fix).toContain('their session expired')
    expect(emu.stats().rejected.ExpiredToken).toBe(before + 1)
    expectNoSecrets(r.out, EXPIRED_KEY)
    expect(r.out).not.toContain(EXPIRED_KEY.sessionToken)
  })

  it('credentials that say they expired → credentials ✗ before any login', async (ctx) => {
    if (!available) return ctx.skip()
    useKey(EXPIRED_KEY)
    vi.stubEnv('AWS_CREDENTIAL_EXPIRATION', EXPIRED_KEY.expiration.toISOString())
    const r = await doctorJson(base())
    expect(r.code).toBe(1)
    expect(r.check('credentials').status).toBe('fail')
    expect(r.check('credentials').detail).toContain('expired at')
  })

  it('driver or STS client not installed → login ✗ saying what to install; identity skipped with the package to add', async (ctx) => {
    if (!available) return ctx.skip()
    const driver = engine === 'postgres' ? 'pg' : 'mysql2'
    const report = await runDoctor(
      {
        engine,
        host: 'localhost',
        port: emu.port,
        user: 'app_user',
        region: 'us-east-1',
        ca: emu.ca,
      },
      {
        // Real resolution failures of names that are not installed, standing in for a missing peer.
        loadDriver: (_id, fix) => requirePeer(`${driver}-not-installed-here`, import.meta.url, fix),
        loadSts: () => import('@aws-sdk/client-sts-not-installed-here' as string),
      },
    )
    const login = report.checks.find((c) => c.name === 'login')
    expect(login?.status).toBe('fail')
    expect(login?.fix).toContain(`npm install ${driver}`)
    const identity = report.checks.find((c) => c.name === 'identity')
    expect(identity).toMatchObject({
      status: 'skip',
      detail: 'skipped: @aws-sdk/client-sts is not installed',
    })
    expect(identity?.fix).toContain('npm install @aws-sdk/client-sts')
    expect(report.ok).toBe(false)
  })

  it('tunnel trap: 127.0.0.1 without --signing-host → login ✗, the fix names the RDS host from the certificate', async (ctx) => {
    if (!available) return ctx.skip()
    const args = [
      '--engine',
      engine,
      '--host',
      '127.0.0.1',
      '--port',
      String(tunnel.port),
      '--user',
      'app_user',
    ]
    const r = await doctorJson([...args, '--region', 'us-east-1', '--ca', tunnelCaFile])
    expect(r.code).toBe(1)
    expect(r.check('tls').status).toBe('pass')
    expect(r.check('login').status).toBe('fail')
    const first = (r.check('login').fix ?? '').split('\n')[1] ?? ''
    expect(first).toContain(`(1) the token is signed for 127.0.0.1:${tunnel.port}`)
    expect(first).toContain(`--signing-host ${RDS_NAME} --signing-port ${DEFAULT_PORT[engine]}`)
    expect(first).toContain(`signingHostname: '${RDS_NAME}'`)

    // Following the fix works: the token is signed for the RDS name, TLS is checked against it.
    const fixed = await doctorJson([
      ...args,
      '--signing-host',
      RDS_NAME,
      '--signing-port',
      String(DEFAULT_PORT[engine]),
      '--ca',
      tunnelCaFile,
    ])
    expect(fixed.report.checks.filter((c) => c.status === 'fail')).toEqual([])
    expect(fixed.code).toBe(0)
    expect(fixed.check('region').detail).toContain('from the hostname')
    expect(fixed.check('tls').detail).toContain(`name ${RDS_NAME} matches`)
  })

  it('wrong signing host → tls ✗: the certificate does not name it', async (ctx) => {
    if (!available) return ctx.skip()
    const r = await doctorJson([...base(), '--signing-host', 'wrong.example.com'])
    expect(r.code).toBe(1)
    expect(r.check('tls').status).toBe('fail')
    expect(r.check('tls').detail).toContain('name check failed')
    expect(r.check('tls').fix).toContain('not wrong.example.com')
    expect(r.check('login').detail).toContain('only sent over TLS whose certificate and name verified')
  })

  it('signing port left at the local port behind a tunnel → the fix suggests --signing-port', async (ctx) => {
    if (!available) return ctx.skip()
    const r = await doctorJson([
      '--engine',
      engine,
      '--host',
      '127.0.0.1',
      '--port',
      String(tunnel.port),
      '--user',
      'app_user',
      '--signing-host',
      RDS_NAME,
      '--ca',
      tunnelCaFile,
    ])
    expect(r.check('login').status).toBe('fail')
    expect(r.check('login').fix).toContain(`(1) the token is signed for port ${tunnel.port} (the local port)`)
    expect(r.check('login').fix).toContain(`--signing-port ${DEFAULT_PORT[engine]}`)
  })

  it('wrong CA: no --ca → the RDS bundle rejects the certificate; --ca of another CA → rejected too', async (ctx) => {
    if (!available) return ctx.skip()
    const args = base().slice(0, -2)
    const bundle = await doctorJson(args)
    expect(bundle.code).toBe(1)
    expect(bundle.check('tls').status).toBe('fail')
    expect(bundle.check('tls').detail).toContain('chain not verified against the RDS CA bundle')
    expect(bundle.check('tls').fix).toContain('--ca FILE')
    expect(bundle.check('login').status).toBe('skip')

    const other = await doctorJson([...args, '--ca', tunnelCaFile])
    expect(other.check('tls').status).toBe('fail')
    expect(other.check('tls').fix).toContain(`not signed by the CA in --ca ${tunnelCaFile}`)
  })

  it('no TLS: the database itself, without the emulator → tls ✗, no token sent', async (ctx) => {
    if (!available) return ctx.skip()
    const u = new URL(upstream)
    const r = await doctorJson([
      '--engine',
      engine,
      '--host',
      u.hostname,
      '--port',
      u.port || String(DEFAULT_PORT[engine]),
      '--user',
      'app_user',
      '--region',
      'us-east-1',
    ])
    expect(r.code).toBe(1)
    expect(r.check('tcp').status).toBe('pass')
    expect(r.check('tls').status).toBe('fail')
    expect(r.check('tls').detail).toContain('does not offer TLS')
    expect(r.check('tls').fix).toContain('not the RDS endpoint')
    expect(r.check('login').status).toBe('skip')
  })

  it('unreachable port → tcp ✗ (ECONNREFUSED), later checks skipped', async (ctx) => {
    if (!available) return ctx.skip()
    const r = await doctorJson([...base().slice(0, 5), String(closedPort), ...base().slice(6)])
    expect(r.code).toBe(1)
    expect(r.check('dns').status).toBe('pass')
    expect(r.check('tcp').status).toBe('fail')
    expect(r.check('tcp').detail).toContain('ECONNREFUSED')
    expect(r.check('tcp').fix).toContain('nothing listens on localhost')
    expect(['tls', 'login', 'query'].map((n) => r.check(n).status)).toEqual(['skip', 'skip', 'skip'])
  })
})

// Aurora DSQL: the emulator's DSQL front (DSQL tokens, admin policy, role mapping) in front of
// real PostgreSQL 15. The client connects to localhost and signs for the cluster host, as through
// a tunnel; the emulator's certificate covers the cluster host.
const DSQL_HOST = 'abcdefghijklmnopqrst.dsql.us-east-1.on.aws'
describe.runIf(ENGINES.includes('postgres'))('dsql: rds-iam doctor against the DSQL emulator', () => {
  let emu: Emulator
  let proxy: Emulator
  let caFile: string
  let proxyCaFile: string
  let available = true
  beforeAll(async () => {
    available = await requireService('postgres')
    if (!available) return
    emu = await startEmulator({
      engine: 'dsql',
      endpoint: DSQL_HOST,
      upstream: TEST_URLS.postgres,
      credentials: [KEY, DENIED_KEY],
      admins: [KEY.accessKeyId],
      roles: { app_role: [KEY.accessKeyId] },
    })
    proxy = await startEmulator({
      engine: 'postgres',
      proxy: true,
      endpoint: 'myproxy.proxy-c9akciq32.us-east-1.rds.amazonaws.com:5432',
      upstream: TEST_URLS.postgres,
      credentials: [KEY],
    })
    caFile = join(dir, 'dsql-ca.pem')
    proxyCaFile = join(dir, 'proxy-ca.pem')
    await writeFile(caFile, emu.ca)
    await writeFile(proxyCaFile, proxy.ca)
  }, 60_000)
  afterAll(async () => {
    await emu?.stop()
    await proxy?.stop()
  })

  const base = (user: string) => [
    '--host',
    'localhost',
    '--port',
    String(emu.port),
    '--signing-host',
    DSQL_HOST,
    '--user',
    user,
    '--ca',
    caFile,
  ]

  it('role admin: every check passes without --engine, the token is a DbConnectAdmin token for the host alone', async (ctx) => {
    if (!available) return ctx.skip()
    const before = emu.stats().accepted
    const r = await doctor(base('admin'))
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out.split('\n')[0]).toBe(
      `rds-iam doctor: Aurora DSQL admin@localhost:${emu.port}, signed for ${DSQL_HOST}`,
    )
    expect(r.out).toMatch(/✓ region\s+us-east-1 \(from the hostname, a dsql endpoint\)/)
    expect(r.out).toContain(
      `signed for role admin@${DSQL_HOST} (Aurora DSQL, DbConnectAdmin, no port) in us-east-1`,
    )
    expect(r.out).toContain('logged in as admin to database postgres')
    expect(r.out.trim().endsWith('all checks passed')).toBe(true)
    expectNoSecrets(r.out)
    expect(emu.stats().accepted).toBe(before + 1)
  })

  it('a mapped role (DbConnect) passes too; --json says service dsql', async (ctx) => {
    if (!available) return ctx.skip()
    const r = await doctorJson(base('app_role'))
    expect(r.code).toBe(0)
    expect(r.report).toMatchObject({ ok: true, service: 'dsql', engine: 'postgres' })
    expect(r.check('token').detail).toContain('(Aurora DSQL, DbConnect, no port)')
  })

  it('policy-denied admin key → login ✗ naming dsql:DbConnectAdmin, no rds_iam / rds-db advice', async (ctx) => {
    if (!available) return ctx.skip()
    useKey(DENIED_KEY)
    const before = emu.stats().rejected.NotAuthorized
    const r = await doctorJson(base('admin'))
    expect(r.code).toBe(1)
    expect(r.check('token').status).toBe('pass')
    expect(r.check('login').status).toBe('fail')
    expect(r.check('login').detail).toBe('IAM authentication failed for user "admin" (SQLSTATE 28000)')
    const fix = r.check('login').fix ?? ''
    expect(fix.split('\n')[0]).toBe('Aurora DSQL refused the token; likely causes, most likely first:')
    expect(fix.split('\n')[1]).toBe(
      '(1) the IAM policy of these credentials must allow dsql:DbConnectAdmin on arn:aws:dsql:us-east-1:<account>:cluster/abcdefghijklmnopqrst (the role admin always needs DbConnectAdmin; new policies take a while to apply)',
    )
    expect(fix).not.toContain('rds_iam')
    expect(fix).not.toContain('rds-db:connect')
    expect(fix).not.toContain('AWS IAM GRANT')
    expect(emu.stats().rejected.NotAuthorized).toBe(before + 1)
    expectNoSecrets(r.out, DENIED_KEY)
  })

  it('an unmapped role → login ✗ with dsql:DbConnect and AWS IAM GRANT to the role ARN of the STS identity', async (ctx) => {
    if (!available) return ctx.skip()
    useKey(DENIED_KEY)
    vi.stubEnv('AWS_ENDPOINT_URL_STS', stsUrl)
    stsAnswer = 'identity'
    stsArn = 'arn:aws:sts::123456789012:assumed-role/app-task/i-0123456789abcdef0'
    const r = await doctorJson(base('app_role'))
    expect(r.code).toBe(1)
    expect(r.check('identity').detail).toContain('assumed-role/app-task/i-0123456789abcdef0')
    const fix = r.check('login').fix ?? ''
    expect(fix).toContain(
      '(1) the IAM policy of these credentials must allow dsql:DbConnect on arn:aws:dsql:us-east-1:123456789012:cluster/abcdefghijklmnopqrst',
    )
    expect(fix).toContain(
      `(2) the role "app_role" must exist and be mapped to these credentials' IAM identity inside the database: as admin run CREATE ROLE "app_role" WITH LOGIN; AWS IAM GRANT "app_role" TO 'arn:aws:iam::123456789012:role/app-task';`,
    )
    expect(fix).not.toContain('rds_iam')
    expectNoSecrets(r.out, DENIED_KEY)
  })

  it('without --ca the bundle rejects a certificate DSQL would not present → tls ✗ saying so, no token sent', async (ctx) => {
    if (!available) return ctx.skip()
    const before = emu.stats()
    const r = await doctorJson(base('admin').slice(0, -2))
    expect(r.check('tls').status).toBe('fail')
    expect(r.check('tls').fix).toContain("Aurora DSQL's certificate chains to Amazon's public roots")
    expect(r.check('login').status).toBe('skip')
    expect(emu.stats().accepted).toBe(before.accepted)
  })

  it('--engine mysql with a DSQL host is a usage error (exit 2), before any check', async () => {
    const r = await doctor([...base('admin'), '--engine', 'mysql'])
    expect(r.code).toBe(2)
    expect(r.out).toBe('')
    expect(r.err).toContain(`${DSQL_HOST} is an Aurora DSQL cluster, which speaks PostgreSQL only`)
  })

  it('RDS Proxy refusing for capacity → login ✗ saying it is not a token problem', async (ctx) => {
    if (!available) return ctx.skip()
    proxy.faults.proxyRefuseNext(1)
    const before = proxy.stats().proxyRefused
    const r = await doctorJson([
      '--engine',
      'postgres',
      '--host',
      'localhost',
      '--port',
      String(proxy.port),
      '--signing-host',
      'myproxy.proxy-c9akciq32.us-east-1.rds.amazonaws.com',
      '--signing-port',
      '5432',
      '--user',
      'app_user',
      '--ca',
      proxyCaFile,
    ])
    expect(proxy.stats().proxyRefused).toBe(before + 1)
    expect(r.check('login').status).toBe('fail')
    expect(r.check('login').detail).toContain('Timed-out waiting to acquire database connection')
    expect(r.check('login').fix).toContain('not a token problem')
    expect(r.check('login').fix).not.toContain('rds_iam')
  })
})

describe('rds-iam doctor without a database', () => {
  let plain: TcpServer
  beforeAll(async () => {
    // PostgreSQL's refusal of a client without TLS, as a server that offers no TLS sends it.
    plain = createTcpServer((socket) => {
      socket.on('error', () => {})
      socket.once('data', () => {
        socket.write('N')
        socket.once('data', () => {
          const fields = Buffer.from(
            'SFATAL\0C28000\0Mpg_hba.conf rejects connection for host "127.0.0.1", user "app_user", database "postgres", no encryption\0\0',
          )
          const head = Buffer.alloc(5)
          head.write('E', 0)
          head.writeUInt32BE(4 + fields.length, 1)
          socket.end(Buffer.concat([head, fields]))
        })
      })
    })
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r))
  })
  afterAll(() => new Promise((r) => plain.close(r)))

  it('a server without TLS that refuses plain logins: tls ✗ quoting pg_hba, no password sent', async () => {
    const port = (plain.address() as { port: number }).port
    const r = await doctorJson([
      '--engine',
      'postgres',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--user',
      'app_user',
      '--region',
      'us-east-1',
    ])
    expect(r.code).toBe(1)
    expect(r.check('tls').detail).toContain('pg_hba.conf rejects connection')
    expect(r.check('tls').detail).toContain('SQLSTATE 28000')
    expect(r.check('login').status).toBe('skip')
  })

  it('a MySQL server that blocked this host (errno 1129 before the handshake) → tls ✗ with FLUSH HOSTS', async () => {
    const blocked = createTcpServer((socket) => {
      // The tcp check closes its probe connection at once, which can reset this socket mid-write.
      socket.on('error', () => {})
      const message = Buffer.from("Host '127.0.0.1' is blocked because of many connection errors")
      const payload = Buffer.concat([Buffer.from([0xff, 0x69, 0x04]), message])
      const head = Buffer.from([payload.length & 0xff, (payload.length >> 8) & 0xff, 0, 0])
      socket.end(Buffer.concat([head, payload]))
    })
    await new Promise<void>((r) => blocked.listen(0, '127.0.0.1', r))
    try {
      const port = (blocked.address() as { port: number }).port
      const r = await doctorJson([
        '--engine',
        'mysql',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--user',
        'u',
        '--region',
        'us-east-1',
      ])
      expect(r.check('tls').status).toBe('fail')
      expect(r.check('tls').detail).toContain('is blocked because of many connection errors (errno 1129)')
      expect(r.check('tls').fix).toContain('FLUSH HOSTS')
    } finally {
      await new Promise((r) => blocked.close(r))
    }
  })

  it('no credentials → credentials ✗ and the token skipped', async () => {
    useKey(undefined)
    const r = await doctorJson([
      '--engine',
      'mysql',
      '--host',
      '127.0.0.1',
      '--port',
      String(closedPort),
      '--user',
      'u',
      '--region',
      'us-east-1',
    ])
    expect(r.code).toBe(1)
    expect(r.check('credentials').status).toBe('fail')
    expect(r.check('credentials').fix).toContain('AWS_ACCESS_KEY_ID')
    expect(r.check('identity').status).toBe('skip')
    expect(r.check('token').status).toBe('skip')
  })

  it('--profile: the credentials file profile answers and is named as the source', async () => {
    const file = join(dir, 'profile-credentials')
    await writeFile(
      file,
      `[doctor-test]\naws_access_key_id = ${KEY.accessKeyId}\naws_secret_access_key = ${KEY.secretAccessKey}\n`,
    )
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', file)
    useKey(undefined)
    const r = await doctorJson([
      '--engine',
      'postgres',
      '--host',
      '127.0.0.1',
      '--port',
      String(closedPort),
      '--user',
      'u',
      '--region',
      'us-east-1',
      '--profile',
      'doctor-test',
    ])
    expect(r.check('credentials')).toMatchObject({ status: 'pass' })
    expect(r.check('credentials').detail).toContain(
      'shared credentials file (~/.aws/credentials) "doctor-test", via --profile doctor-test',
    )
    expect(r.check('token').status).toBe('pass')
    expectNoSecrets(r.out)
    const missing = await doctorJson([
      '--engine',
      'postgres',
      '--host',
      '127.0.0.1',
      '--port',
      String(closedPort),
      '--user',
      'u',
      '--region',
      'us-east-1',
      '--profile',
      'no-such-profile',
    ])
    expect(missing.check('credentials').status).toBe('fail')
    expect(missing.check('credentials').fix).toContain('profile "no-such-profile" exists')
  })

  it('no region anywhere → region ✗ with --region as the fix', async () => {
    const r = await doctorJson([
      '--engine',
      'postgres',
      '--host',
      '127.0.0.1',
      '--port',
      String(closedPort),
      '--user',
      'u',
    ])
    expect(r.check('region').status).toBe('fail')
    expect(r.check('region').fix).toContain('--region')
    expect(r.check('token').detail).toContain('no region')
  })

  it.each([
    [['--host', 'h', '--user', 'u'], 'missing --engine'],
    [['--host', 'h', '--user', 'u', '--engine', 'oracle'], '--engine must be postgres, mysql or dsql'],
    [['--host', 'h', '--user', 'u', '--engine', 'dsql', '--service', 'rds'], 'contradicts --service rds'],
    [
      ['--host', 'h', '--user', 'u', '--engine', 'mysql', '--ca-file', '/nonexistent/ca.pem'],
      'cannot read --ca',
    ],
    [['--host', 'h', '--user', 'u', '--engine', 'mysql', '--ca', 'a.pem', '--ca-file', 'b.pem'], 'give one'],
    [['--host', 'h', '--user', 'u', '--engine', 'mysql', '--port', 'x'], '--port must be'],
    [['--host', 'h', '--user', 'u', '--engine', 'mysql', '--ca', '/nonexistent/ca.pem'], 'cannot read --ca'],
    [['--host', 'h', '--user', 'u', '--engine', 'mysql', '--bogus'], 'bogus'],
  ])('usage error %j → exit 2 naming %s', async (args, needle) => {
    const r = await doctor(args)
    expect(r.code).toBe(2)
    expect(r.err).toContain(needle)
    expect(r.err).toContain('Usage: rds-iam doctor')
    expect(r.out).toBe('')
  })

  it('--help', async () => {
    const r = await doctor(['--help'])
    expect(r.code).toBe(0)
    expect(r.out).toContain('--signing-host HOST')
  })
})
