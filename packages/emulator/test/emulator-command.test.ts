import { access, readFile } from 'node:fs/promises'
import { Writable } from 'node:stream'
import { Signer } from '@aws-sdk/rds-signer'
import pg from 'pg'
import { describe, expect, it, vi } from 'vitest'
import { runEmulatorCommand } from '../src/index.js'
import { PG_URL, requirePostgres } from './fixtures/pg-env.js'

const pgReachable = await requirePostgres(PG_URL)

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
})
