import { createServer } from 'node:net'
import { describe, expect, it, vi } from 'vitest'
import { PG_START_COMMAND, requirePostgres } from './fixtures/pg-env.js'

/** A local port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

describe('postgres front tests: a missing PostgreSQL', () => {
  it('fails loudly under CI with the command that starts it, and never prints the password', async () => {
    const url = `postgres://postgres:hunter2@127.0.0.1:${await closedPort()}/test`
    const err = await requirePostgres(url, { CI: 'true' }).then(
      () => new Error('requirePostgres resolved'),
      (e: Error) => e,
    )
    expect(err.message).toContain(PG_START_COMMAND)
    expect(err.message).toContain('ECONNREFUSED')
    expect(err.message).toContain('RDS_IAM_TEST_PG_URL')
    expect(err.message).not.toContain('hunter2')
  })

  it('outside CI reports the skip with the same instructions', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const url = `postgres://postgres@127.0.0.1:${await closedPort()}/test`
      await expect(requirePostgres(url, {})).resolves.toBe(false)
      expect(warn).toHaveBeenCalledWith(expect.stringContaining(PG_START_COMMAND))
    } finally {
      warn.mockRestore()
    }
  })
})
