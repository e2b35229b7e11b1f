import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { withAuthRetry } from './auth-retry.js'
import { normalizeIamOptions } from './iam-options.js'
import { RdsIamError } from './rds-iam-error.js'
import { RDS_HOST, uniqueUser } from './test-support/unique.js'
import { createTokenProvider } from './token-provider.js'

const SECRET = 'SuperSecretKeyMaterial/0123456789abcdefghij'
const SESSION = 'SessionTokenMaterial+zyxwvutsrqponmlk=='

function assertClean(text: string, token: string) {
  expect(text).not.toContain(SECRET)
  expect(text).not.toContain(SESSION)
  expect(text).not.toContain(token)
  expect(text).not.toContain('X-Amz-Signature')
  expect(text).not.toContain(encodeURIComponent(SESSION))
}

describe('secrets never leak', () => {
  it('not through util.inspect / JSON of options, providers, errors, or log lines', async () => {
    const lines: string[] = []
    const logger = { debug: (l: string) => lines.push(l), warn: (l: string) => lines.push(l) }
    const credentials = { accessKeyId: 'AKIDLEAKTEST', secretAccessKey: SECRET, sessionToken: SESSION }
    const username = uniqueUser()
    const options = normalizeIamOptions({ credentials, logger })
    const provider = createTokenProvider({ hostname: RDS_HOST, port: 5432, username, ...options })
    const token = await provider.getToken()
    expect(token).toContain('X-Amz-Signature') // the real signer ran
    expect(lines.length).toBeGreaterThan(0)

    const err = await withAuthRetry(
      async () => {
        throw Object.assign(new Error(`PAM authentication failed for user "${username}"`), { code: '28000' })
      },
      provider,
      { maxAttempts: 2, baseDelayMs: 0 },
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RdsIamError)

    const surfaces = [
      inspect(options, { depth: 10, showHidden: false }),
      JSON.stringify(options),
      inspect(provider, { depth: 10 }),
      inspect(provider.stats()),
      inspect(provider.target),
      String((err as Error).message),
      String((err as Error).stack),
      inspect(err, { depth: 10 }),
      ...lines,
    ]
    for (const text of surfaces) assertClean(text, token)
    // The redacted copy still signs: the secret is there, just not enumerable.
    expect((options.credentials as { secretAccessKey: string }).secretAccessKey).toBe(SECRET)
    expect(Object.keys(options.credentials as object)).not.toContain('secretAccessKey')
  })

  it('not through signing and credential errors', async () => {
    const username = uniqueUser()
    const provider = createTokenProvider(
      {
        hostname: RDS_HOST,
        port: 5432,
        username,
        credentials: { accessKeyId: 'AKID', secretAccessKey: SECRET },
      },
      {
        sign: async () => {
          throw new Error('signer broke')
        },
      },
    )
    const err = await provider.getToken().catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'RDS_IAM_SIGNING_FAILED' })
    assertClean(inspect(err, { depth: 10 }), 'no-token')
  })
})
