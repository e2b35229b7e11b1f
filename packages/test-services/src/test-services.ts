import { connect } from 'node:net'

/** The databases the test suites run against (DESIGN §7), overridable from the environment. */
export type ServiceKind = 'postgres' | 'mysql'

export const TEST_URLS: Readonly<Record<ServiceKind, string>> = {
  postgres: process.env.RDS_IAM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  mysql: process.env.RDS_IAM_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
}

const URL_VARIABLES: Record<ServiceKind, string> = {
  postgres: 'RDS_IAM_TEST_PG_URL',
  mysql: 'RDS_IAM_TEST_MYSQL_URL',
}

/** The commands that start each service on this project's machines (Debian, no systemd) and with Docker. */
export const START_COMMANDS: Readonly<Record<ServiceKind, { local: string; docker: string }>> = {
  postgres: {
    local: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    docker: 'docker compose up -d --wait postgres',
  },
  mysql: {
    local: 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
    docker: 'docker compose up -d --wait mysql',
  },
}

const NAMES: Record<ServiceKind, string> = { postgres: 'PostgreSQL', mysql: 'MariaDB/MySQL' }

/** The URL with any password replaced, so a message can name the server without leaking it. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '<unparseable URL>'
  }
}

/** The message for a service that cannot be reached: what failed, and the command that fixes it. */
export function serviceUnavailableMessage(kind: ServiceKind, url: string, reason: string): string {
  const { local, docker } = START_COMMANDS[kind]
  return (
    `${NAMES[kind]} at ${redactUrl(url)} is not reachable (${reason}). Start it with: ${local} ` +
    `(or: ${docker}), or point ${URL_VARIABLES[kind]} at a running server.`
  )
}

/** Resolves when something accepts TCP connections at the URL's host and port; rejects with the reason. */
export function tcpProbe(url: string, timeoutMs = 3000): Promise<void> {
  const u = new URL(url)
  const defaultPort = u.protocol.startsWith('mysql') ? 3306 : 5432
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port || defaultPort) })
    const fail = (reason: string) => {
      socket.destroy()
      reject(new Error(reason))
    }
    socket.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs} ms`))
    socket.once('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message))
    socket.once('connect', () => {
      socket.destroy()
      resolve()
    })
  })
}

export interface RequireServiceOptions {
  url?: string
  env?: NodeJS.ProcessEnv
  /** A stricter check than TCP (e.g. a real login); rejects with the reason. */
  probe?: (url: string) => Promise<void>
  /** Outside CI: how the caller skips, e.g. vitest's `ctx.skip`; defaults to a console warning. */
  skip?: (message: string) => void
}

/**
 * True when the service answers. When it does not: under `CI` this throws with the command that
 * starts it, so a CI run can never pass by skipping; elsewhere it reports the same message through
 * `skip` and returns false, so a skip is always visible.
 */
export async function requireService(
  kind: ServiceKind,
  options: RequireServiceOptions = {},
): Promise<boolean> {
  const url = options.url ?? TEST_URLS[kind]
  const env = options.env ?? process.env
  try {
    await (options.probe ?? tcpProbe)(url)
    return true
  } catch (err) {
    const message = serviceUnavailableMessage(kind, url, err instanceof Error ? err.message : String(err))
    if (env.CI) throw new Error(message)
    if (options.skip) options.skip(message)
    else console.warn(`skipping: ${message}`)
    return false
  }
}
