import { createServer } from 'node:net'
import { describe, expect, it, vi } from 'vitest'
import { MARIADB_START_COMMAND, requireMysql } from './fixtures/mysql-env.js'

/** A local port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

describe('mysql front tests: a missing MariaDB', () => {
  it('fails loudly under CI with the command that starts it, and never prints the password', async () => {
    const url = `mysql://root:hunter2@127.0.0.1:${await closedPort()}/test`
    const err = await requireMysql(url, { CI: 'true' }).then(
      () => new Error('requireMysql resolved'),
      (e: Error) => e,
    )
    expect(err.message).toContain(MARIADB_START_COMMAND)
    expect(err.message).toContain('ECONNREFUSED')
    expect(err.message).toContain('RDS_IAM_TEST_MYSQL_URL')
    expect(err.message).not.toContain('hunter2')
  })

  it('outside CI reports the skip with the same instructions', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const url = `mysql://root@127.0.0.1:${await closedPort()}/test`
      await expect(requireMysql(url, {})).resolves.toBe(false)
      expect(warn).toHaveBeenCalledWith(expect.stringContaining(MARIADB_START_COMMAND))
    } finally {
      warn.mockRestore()
    }
  })
})
