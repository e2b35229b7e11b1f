// Whether the demo's MySQL half can run: a real login with the URL the emulator will use upstream.
// A TCP connect is not enough: a stock Debian/Ubuntu MariaDB/MySQL (root via unix-socket auth) or a
// Docker MySQL with a root password listens on 3306 but refuses `root` without a password, and the
// four MySQL rows would all end FAILED.
import { createRequire } from 'node:module'

// mysql2 is resolved through the mysql2 example (the demo's own dependency, which depends on it):
// the demo then needs no dependency of its own, and the frozen lockfile stays as it is.
const require = createRequire(import.meta.url)
const mysql = createRequire(require.resolve('@rds-iam/example-mysql2/package.json'))('mysql2/promise')

// Network-level failures: nothing to log in to at that host:port.
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
])

/**
 * Logs in at `url` and disconnects. Resolves `{ ok: true }`, or `{ ok: false, kind, reason }` with
 * `kind` 'unreachable' (nothing answers), 'no-database' or 'refused' (any other failure, e.g.
 * access denied or an unsupported auth plugin). `reason` names host, port and user, never the
 * password nor the server's raw message.
 */
export async function probeMysql(url, { timeoutMs = 2000 } = {}) {
  const u = new URL(url)
  const where = u.host || '127.0.0.1:3306'
  const user = decodeURIComponent(u.username || 'root')
  const database = decodeURIComponent(u.pathname.slice(1))
  let conn
  try {
    conn = await mysql.createConnection({ uri: url, connectTimeout: timeoutMs })
    return { ok: true }
  } catch (err) {
    const code = err?.code ?? 'unknown error'
    if (UNREACHABLE.has(code)) {
      const reason =
        code === 'ETIMEDOUT'
          ? `nothing answered on ${where} within ${timeoutMs} ms`
          : `nothing listens on ${where}`
      return { ok: false, kind: 'unreachable', reason }
    }
    if (code === 'ER_BAD_DB_ERROR') {
      return { ok: false, kind: 'no-database', reason: `${where} has no database ${database} (${code})` }
    }
    const how = u.password ? 'with the password given' : 'without a password'
    return { ok: false, kind: 'refused', reason: `${where} refused ${user}@${u.hostname} ${how} (${code})` }
  } finally {
    await conn?.end().catch(() => {})
  }
}
