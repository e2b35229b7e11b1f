import { createServer } from 'node:net'
import { describe, expect, it, vi } from 'vitest'
import { requireService, type ServiceKind, START_COMMANDS } from './test-services.js'

/** A local port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

const CASES: Array<{ kind: ServiceKind; scheme: string; variable: string }> = [
  { kind: 'postgres', scheme: 'postgres', variable: 'RDS_IAM_TEST_PG_URL' },
  { kind: 'mysql', scheme: 'mysql', variable: 'RDS_IAM_TEST_MYSQL_URL' },
]

describe.each(CASES)('a missing $kind service', ({ kind, scheme, variable }) => {
  it('fails loudly under CI with the command that starts it, and never prints the password', async () => {
    const url = `${scheme}://app:hunter2@127.0.0.1:${await closedPort()}/test`
    const err = await requireService(kind, { url, env: { CI: 'true' } }).then(
      () => new Error('requireService resolved'),
      (e: Error) => e,
    )
    expect(err.message).toContain(START_COMMANDS[kind].local)
    expect(err.message).toContain('ECONNREFUSED')
    expect(err.message).toContain(variable)
    expect(err.message).not.toContain('hunter2')
  })

  it('outside CI reports the skip with the same instructions', async () => {
    const skip = vi.fn()
    const url = `${scheme}://app@127.0.0.1:${await closedPort()}/test`
    await expect(requireService(kind, { url, env: {}, skip })).resolves.toBe(false)
    expect(skip).toHaveBeenCalledWith(expect.stringContaining(START_COMMANDS[kind].local))
  })

  it('passes the reason of a stricter probe through', async () => {
    const probe = () => Promise.reject(new Error('ER_ACCESS_DENIED_ERROR'))
    const err = await requireService(kind, {
      url: `${scheme}://127.0.0.1/test`,
      env: { CI: '1' },
      probe,
    }).then(
      () => new Error('requireService resolved'),
      (e: Error) => e,
    )
    expect(err.message).toContain('ER_ACCESS_DENIED_ERROR')
  })
})

describe('a running service', () => {
  it('resolves true when something listens', async () => {
    const server = createServer((socket) => socket.end())
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    try {
      await expect(
        requireService('postgres', { url: `postgres://127.0.0.1:${port}/x`, env: {} }),
      ).resolves.toBe(true)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
