import { requireService, TEST_URLS } from '@rds-iam/test-services'
import { beforeAll, expect, test } from 'vitest'
import { probeMysql } from '../src/mysql-probe.mjs'

// The real MariaDB/MySQL the suite runs against; under CI its absence fails here, elsewhere it skips.
let reachable = false
beforeAll(async () => {
  reachable = await requireService('mysql')
})

/** The test server's URL with another user, password or database. */
function variant(change: { user?: string; password?: string; database?: string }): string {
  const u = new URL(TEST_URLS.mysql)
  if (change.user !== undefined) u.username = change.user
  if (change.password !== undefined) u.password = change.password
  if (change.database !== undefined) u.pathname = `/${change.database}`
  return u.toString()
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const where = new URL(TEST_URLS.mysql).host
const host = new URL(TEST_URLS.mysql).hostname

test('probeMysql logs in to a server the demo can use', async (ctx) => {
  if (!reachable) ctx.skip()
  expect(await probeMysql(TEST_URLS.mysql)).toEqual({ ok: true })
})

test('probeMysql reports a server that listens but refuses the user as refused, not as usable', async (ctx) => {
  // What a stock Debian/Ubuntu MySQL (root via unix socket) or a Docker MySQL with a root password
  // does to the demo's default root@127.0.0.1 without a password: a TCP connect succeeds, the login not.
  if (!reachable) ctx.skip()
  const result = await probeMysql(variant({ user: 'rds_iam_demo_nobody', password: '' }))
  expect(result).toMatchObject({ ok: false, kind: 'refused' })
  // MariaDB answers 1045 or 1698 (ER_ACCESS_DENIED_NO_PASSWORD_ERROR) depending on version and user.
  expect(result.ok ? '' : result.reason).toMatch(
    new RegExp(
      `^${escapeRe(where)} refused rds_iam_demo_nobody@${escapeRe(host)} without a password \\(ER_ACCESS_DENIED(_NO_PASSWORD)?_ERROR\\)$`,
    ),
  )
})

test('probeMysql reports a wrong password as refused without printing the password', async (ctx) => {
  if (!reachable) ctx.skip()
  const result = await probeMysql(variant({ password: 'rds-iam-demo-wrong-pw' }))
  expect(result).toMatchObject({ ok: false, kind: 'refused' })
  expect(JSON.stringify(result)).toContain('with the password given (ER_ACCESS_DENIED_ERROR)')
  expect(JSON.stringify(result)).not.toContain('rds-iam-demo-wrong-pw')
})

test('probeMysql reports a missing database', async (ctx) => {
  if (!reachable) ctx.skip()
  expect(await probeMysql(variant({ database: 'rds_iam_demo_no_such_db' }))).toEqual({
    ok: false,
    kind: 'no-database',
    reason: `${where} has no database rds_iam_demo_no_such_db (ER_BAD_DB_ERROR)`,
  })
})

test('probeMysql reports a port nothing listens on as unreachable', async () => {
  expect(await probeMysql('mysql://root@127.0.0.1:1/test')).toEqual({
    ok: false,
    kind: 'unreachable',
    reason: 'nothing listens on 127.0.0.1:1',
  })
})
