import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { verifyDsqlToken } from '../../core/src/test-support/verify-sigv4.js'
import { main } from './cli-main.js'
import { bufferIo, FAKE_ENV } from './test-support.js'

// `rds-iam token --engine dsql`: checked by core's independent SigV4 verifier (no network).
const CLUSTER = 'abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws'
let awsDir: string

beforeAll(async () => {
  awsDir = await mkdtemp(join(tmpdir(), 'rds-iam-cli-dsql-'))
  await writeFile(join(awsDir, 'config'), '')
  await writeFile(join(awsDir, 'credentials'), '')
})
afterAll(async () => {
  await rm(awsDir, { recursive: true, force: true })
})
beforeEach(() => {
  vi.unstubAllEnvs()
  vi.stubEnv('AWS_ACCESS_KEY_ID', FAKE_ENV.AWS_ACCESS_KEY_ID)
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', FAKE_ENV.AWS_SECRET_ACCESS_KEY)
  vi.stubEnv('AWS_SESSION_TOKEN', undefined)
  vi.stubEnv('AWS_PROFILE', undefined)
  vi.stubEnv('AWS_REGION', undefined)
  vi.stubEnv('AWS_DEFAULT_REGION', undefined)
  vi.stubEnv('AWS_CONFIG_FILE', join(awsDir, 'config'))
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(awsDir, 'credentials'))
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true')
})

describe('rds-iam token --engine dsql', () => {
  it('prints a DbConnectAdmin token for admin, no port needed, region from the cluster host', async () => {
    const b = bufferIo()
    expect(
      await main(['token', '--engine', 'dsql', '--hostname', CLUSTER, '--username', 'admin'], b.io),
    ).toBe(0)
    const result = verifyDsqlToken(b.stdout().trim(), {
      secretAccessKey: FAKE_ENV.AWS_SECRET_ACCESS_KEY,
      accessKeyId: FAKE_ENV.AWS_ACCESS_KEY_ID,
      host: CLUSTER,
      region: 'eu-west-1',
      action: 'DbConnectAdmin',
    })
    expect(result.reason).toBeUndefined()
  })

  it('a DSQL host is recognised without --engine; other roles get DbConnect; --expires-in sets the lifetime', async () => {
    const b = bufferIo()
    expect(
      await main(['token', '--hostname', CLUSTER, '--username', 'app', '--expires-in', '3600'], b.io),
    ).toBe(0)
    const result = verifyDsqlToken(b.stdout().trim(), {
      secretAccessKey: FAKE_ENV.AWS_SECRET_ACCESS_KEY,
      host: CLUSTER,
      action: 'DbConnect',
    })
    expect(result.reason).toBeUndefined()
    expect(result.params['X-Amz-Expires']).toBe('3600')
  })

  it('--engine dsql signs for a host that does not show it (with --region)', async () => {
    const b = bufferIo()
    const code = await main(
      [
        'token',
        '--engine',
        'dsql',
        '--hostname',
        'db.internal.example',
        '--username',
        'admin',
        '--region',
        'us-east-2',
      ],
      b.io,
    )
    expect(code).toBe(0)
    expect(
      verifyDsqlToken(b.stdout().trim(), {
        secretAccessKey: FAKE_ENV.AWS_SECRET_ACCESS_KEY,
        host: 'db.internal.example',
        region: 'us-east-2',
      }).ok,
    ).toBe(true)
  })

  it.each([
    [['--engine', 'oracle', '--hostname', CLUSTER, '--username', 'admin'], '--engine'],
    [
      ['--engine', 'dsql', '--hostname', CLUSTER, '--username', 'admin', '--expires-in', '604801'],
      '--expires-in',
    ],
    [
      [
        '--hostname',
        'db.abc.eu-west-1.rds.amazonaws.com',
        '--port',
        '5432',
        '--username',
        'u',
        '--expires-in',
        '60',
      ],
      'dsql only',
    ],
    [['--hostname', CLUSTER, '--host', 'other.example', '--username', 'admin'], 'give one'],
    [['--engine', 'dsql', '--username', 'admin'], 'missing --hostname'],
  ])('usage errors exit 2 and name the flag: %j', async (args, needle) => {
    const b = bufferIo()
    expect(await main(['token', ...args], b.io)).toBe(2)
    expect(b.stderr()).toContain(needle)
    expect(b.stdout()).toBe('')
  })
})

describe('rds-iam token --host/--user (the spellings of url and doctor)', () => {
  it('signs the same token as --hostname/--username', async () => {
    const long = bufferIo()
    const short = bufferIo()
    expect(await main(['token', '--hostname', CLUSTER, '--username', 'admin'], long.io)).toBe(0)
    expect(await main(['token', '--host', CLUSTER, '--user', 'admin'], short.io)).toBe(0)
    const verify = (token: string) =>
      verifyDsqlToken(token, {
        secretAccessKey: FAKE_ENV.AWS_SECRET_ACCESS_KEY,
        host: CLUSTER,
        action: 'DbConnectAdmin',
      }).reason
    expect(verify(short.stdout().trim())).toBeUndefined()
    expect(verify(long.stdout().trim())).toBeUndefined()
  })
})
