import { connect } from 'node:net'

/** Local services the tests use; URLs come from env like the rest of the repo. */
export const PG_URL =
  process.env.PG_URL ?? process.env.DATABASE_URL_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const MYSQL_URL =
  process.env.MYSQL_URL ?? process.env.DATABASE_URL_MYSQL ?? 'mysql://root@127.0.0.1:3306/test'

export function reachable(url: string, timeoutMs = 2000): Promise<boolean> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname, port: Number(u.port) })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * Fails loudly when CI is set and the service is down (with the command that starts it);
 * outside CI, skips with the same message so nothing is silently skipped.
 */
export async function requireService(
  url: string,
  startHint: string,
  skip: (note: string) => void,
): Promise<void> {
  if (await reachable(url)) return
  const message = `${new URL(url).protocol}//${new URL(url).host} is not reachable. Start it: ${startHint}`
  if (process.env.CI) throw new Error(message)
  skip(message)
}
