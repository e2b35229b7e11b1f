import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { main } from './cli-main.js'
import { bufferIo } from './test-support.js'

// End to end through the CLI only: `rds-iam emulator` (embedded PGlite upstream, no external
// service), `rds-iam token` with the printed test key, then a real pg connection over verified TLS.
let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rds-iam-cli-emu-'))
})
afterAll(async () => {
  vi.unstubAllEnvs()
  await rm(dir, { recursive: true, force: true })
})

function field(text: string, name: string): string {
  const m = new RegExp(`^\\s*${name}\\s+(\\S+)`, 'm').exec(text)
  if (!m?.[1]) throw new Error(`emulator output has no "${name}" line:\n${text}`)
  return m[1]
}

describe('rds-iam emulator (dispatch to @rds-iam/emulator)', () => {
  it('--help is answered by the emulator command', async () => {
    const b = bufferIo()
    expect(await main(['emulator', '--help'], b.io)).toBe(0)
    expect(b.stdout()).toContain('--engine postgres|mysql')
  })

  it('a usage error keeps exit code 2', async () => {
    const b = bufferIo()
    expect(await main(['emulator', '--engine', 'oracle'], b.io)).toBe(2)
    expect(b.stderr()).toContain('--engine')
  })

  it('serves a real pg connection with a token printed by `rds-iam token`', async () => {
    const controller = new AbortController()
    let out = ''
    let ready: () => void = () => {}
    const started = new Promise<void>((r) => {
      ready = r
    })
    const stderr: string[] = []
    const caFile = join(dir, 'ca.pem')
    const running = main(['emulator', '--engine', 'postgres', '--ca-file', caFile], {
      stdout: {
        write: (s: string) => {
          out += s
          if (out.includes('Press Ctrl+C')) ready()
        },
      },
      stderr: { write: (s: string) => stderr.push(s) },
      signal: controller.signal,
    })
    let client: pg.Client | undefined
    try {
      await Promise.race([
        started,
        running.then((code) => {
          throw new Error(`emulator exited with ${code}: ${stderr.join('')}`)
        }),
      ])
      const [host, port] = field(out, 'endpoint').split(':') as [string, string]
      const region = field(out, 'region')
      vi.stubEnv('AWS_ACCESS_KEY_ID', field(out, 'access key id'))
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', field(out, 'secret access key'))
      vi.stubEnv('AWS_SESSION_TOKEN', undefined)
      vi.stubEnv('AWS_PROFILE', undefined)

      const t = bufferIo()
      const code = await main(
        ['token', '--hostname', host, '--port', port, '--username', 'app', '--region', region],
        t.io,
      )
      expect(t.stderr()).toBe('')
      expect(code).toBe(0)

      client = new pg.Client({
        host,
        port: Number(port),
        user: 'app',
        database: 'postgres',
        password: t.stdout().trim(),
        ssl: { ca: await readFile(caFile, 'utf8'), rejectUnauthorized: true },
        connectionTimeoutMillis: 20_000,
      })
      await client.connect()
      const res = await client.query<{ n: number }>('select 41 + 1 as n')
      expect(res.rows[0]?.n).toBe(42)

      const wrong = new pg.Client({
        host,
        port: Number(port),
        user: 'app',
        database: 'postgres',
        password: 'not-a-token',
        ssl: { ca: await readFile(caFile, 'utf8') },
        connectionTimeoutMillis: 20_000,
      })
      const err = await wrong.connect().catch((e: unknown) => e)
      await wrong.end().catch(() => {})
      expect(err).toMatchObject({ code: '28000' })
    } finally {
      await client?.end().catch(() => {})
      controller.abort()
    }
    expect(await running).toBe(0)
  }, 90_000)
})
