import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { main } from './cli-main.js'
import { bufferIo, FAKE_ENV, verifyRdsToken } from './test-support.js'

const HOST = 'mydb.cluster-c9akciq32.eu-west-1.rds.amazonaws.com'
let awsDir: string

beforeAll(async () => {
  // Empty AWS config files: the default chain finds only the env credentials, and a profile lookup fails fast.
  awsDir = await mkdtemp(join(tmpdir(), 'rds-iam-cli-'))
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

describe('rds-iam token (main)', () => {
  it('prints a token that verifies for the endpoint, user and region', async () => {
    const b = bufferIo()
    const code = await main(['token', '--hostname', HOST, '--port', '5432', '--username', 'app_user'], b.io)
    expect(b.stderr()).toBe('')
    expect(code).toBe(0)
    const token = b.stdout().trim()
    const result = verifyRdsToken(token, {
      secretAccessKey: FAKE_ENV.AWS_SECRET_ACCESS_KEY,
      accessKeyId: FAKE_ENV.AWS_ACCESS_KEY_ID,
      endpoint: `${HOST}:5432`,
      user: 'app_user',
      region: 'eu-west-1',
    })
    expect(result.reason).toBeUndefined()
    expect(result.ok).toBe(true)
  })

  it('--region overrides the hostname', async () => {
    const b = bufferIo()
    const code = await main(
      ['token', '--hostname', 'localhost', '--port', '3306', '--username', 'u', '--region', 'ap-south-1'],
      b.io,
    )
    expect(code).toBe(0)
    expect(
      verifyRdsToken(b.stdout().trim(), {
        secretAccessKey: FAKE_ENV.AWS_SECRET_ACCESS_KEY,
        region: 'ap-south-1',
      }).ok,
    ).toBe(true)
  })

  it.each([
    [['token', '--port', '5432', '--username', 'u'], '--hostname'],
    [['token', '--hostname', HOST, '--port', 'abc', '--username', 'u'], '--port'],
    [['token', '--hostname', HOST, '--port', '5432', '--username', 'u', '--bogus'], 'bogus'],
    [['frobnicate'], 'unknown command'],
    [[], 'no command'],
  ])('usage error %j → exit 2 naming %s', async (argv, needle) => {
    const b = bufferIo()
    expect(await main(argv, b.io)).toBe(2)
    expect(b.stderr()).toContain(needle)
    expect(b.stderr()).toContain('Usage:')
    expect(b.stdout()).toBe('')
  })

  it('no region → exit 1 with RDS_IAM_NO_REGION and the flag to use', async () => {
    const b = bufferIo()
    expect(await main(['token', '--hostname', 'localhost', '--port', '5432', '--username', 'u'], b.io)).toBe(
      1,
    )
    expect(b.stderr()).toContain('RDS_IAM_NO_REGION')
    expect(b.stderr()).toContain('--region')
    expect(b.stdout()).toBe('')
  })

  it('an unknown profile → exit 1 with RDS_IAM_CREDENTIALS', async () => {
    const b = bufferIo()
    const code = await main(
      ['token', '--hostname', HOST, '--port', '5432', '--username', 'u', '--profile', 'no-such-profile'],
      b.io,
    )
    expect(code).toBe(1)
    expect(b.stderr()).toContain('RDS_IAM_CREDENTIALS')
    expect(b.stderr()).not.toContain(FAKE_ENV.AWS_SECRET_ACCESS_KEY)
  })

  it('--help and --version', async () => {
    const help = bufferIo()
    expect(await main(['--help'], help.io)).toBe(0)
    expect(help.stdout()).toContain('rds-iam <command>')
    const tokenHelp = bufferIo()
    expect(await main(['token', '--help'], tokenHelp.io)).toBe(0)
    expect(tokenHelp.stdout()).toContain('--hostname HOST')
    const version = bufferIo()
    expect(await main(['--version'], version.io)).toBe(0)
    expect(version.stdout().trim()).toMatch(/^\d+\.\d+\.\d+/)
  })
})
