import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// Issue 8 item 6: mysql2's `debug: true` prints every packet it writes as hex, and the auth switch
// response carries the token (session token included): a credential in the log of exactly the
// person debugging an auth failure. That packet is now left out of the dump (a line says so).
const child = fileURLToPath(new URL('./fixtures/debug-child.ts', import.meta.url))
const packageDir = fileURLToPath(new URL('..', import.meta.url))

interface ChildResult {
  output: string
  token: string
  signed: number
}

function runChild(settings: object): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    // fd 3 is a fourth pipe: the child reports the token there, out of the scanned output.
    const proc = spawn(process.execPath, ['--conditions=dev-source', '--import', 'tsx', child], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, DEBUG_CHILD_SETTINGS: JSON.stringify(settings) },
    })
    const collected = ['', '', '']
    for (const [i, stream] of [proc.stdout, proc.stderr, proc.stdio[3]].entries()) {
      stream?.on('data', (chunk: Buffer) => {
        collected[i] += String(chunk)
      })
    }
    proc.on('error', reject)
    proc.on('close', (code) => {
      const [stdout, stderr, fd3] = collected as [string, string, string]
      if (code !== 0) return reject(new Error(`child exited with ${code}\n${stderr.slice(-2000)}`))
      try {
        const reported = JSON.parse(fd3) as { token: string; stats: { signed: number } }
        resolve({ output: `${stdout}\n${stderr}`, token: reported.token, signed: reported.stats.signed })
      } catch (parseError) {
        reject(parseError)
      }
    })
  })
}

describe.each([
  ['mysql2 3.9.0', false],
  ['mysql2 latest', true],
])('%s with debug: true', (_label, latest) => {
  let emu: Emulator
  beforeAll(async () => {
    // A session token makes the token longer and is the most sensitive part of it.
    emu = await startEmulator({
      engine: 'mysql',
      upstream: TEST_URLS.mysql,
      credentials: [
        {
          accessKeyId: 'ASIADEBUGOUTPUT00001',
          secretAccessKey: 'debug-output-secret-access-key-0000000000',
          sessionToken: 'IQoJb3JpZ2luX2VjEDebugOutputSessionToken//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==',
        },
      ],
    })
  })
  afterAll(() => emu?.stop())

  test('the packet dump never contains the token, as text or as hex', async () => {
    const result = await runChild({
      latest,
      port: emu.port,
      ca: emu.ca,
      region: emu.region,
      user: `debug_user_${latest ? 'latest' : 'lowest'}`,
      credentials: emu.credentials[0],
    })
    // One token served both connections, so it is the one each auth packet would have carried.
    expect(result.signed).toBe(1)
    expect(result.token).toContain('X-Amz-Security-Token=')
    // Debug output really was produced, and says what it left out.
    expect(result.output.match(/<==/g)?.length ?? 0).toBeGreaterThan(4)
    expect(result.output.match(/not dumped, it carries the IAM token/g)).toHaveLength(2)

    const signature = /X-Amz-Signature=([0-9a-f]+)/.exec(result.token)![1]!
    const sessionToken = decodeURIComponent(/X-Amz-Security-Token=([^&]+)/.exec(result.token)![1]!)
    const secrets = [result.token, signature, sessionToken, encodeURIComponent(sessionToken)]
    const haystack = result.output.toLowerCase()
    for (const secret of secrets) {
      expect(result.output).not.toContain(secret)
      expect(haystack).not.toContain(Buffer.from(secret).toString('hex'))
    }
  })
})
