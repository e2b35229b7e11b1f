/** The embedded upstream used when the user gives no PostgreSQL URL. */
export interface PgliteUpstream {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, loopback only. */
  url: string
  stop(): Promise<void>
}

/**
 * How many sessions the PGlite socket server admits at once. PGlite is one single-user backend:
 * pglite-socket multiplexes connections onto it message by message (one query at a time, a
 * transaction holds it until it ends), so this is an admission cap, not parallelism.
 */
const MAX_CONNECTIONS = 100

/**
 * Starts an in-memory PGlite behind `@electric-sql/pglite-socket` on an ephemeral loopback port.
 * Imported dynamically by startEmulator so users who bring a database never load the WASM.
 */
export async function startPgliteUpstream(): Promise<PgliteUpstream> {
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-socket'),
  ])
  const db = await PGlite.create()
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: MAX_CONNECTIONS })
  try {
    await server.start()
  } catch (err) {
    await db.close()
    throw err
  }
  const conn = server.getServerConn()
  return {
    url: `postgres://postgres@${conn}/postgres`,
    async stop() {
      await server.stop()
      await db.close()
    },
  }
}
