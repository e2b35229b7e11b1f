import type { Socket } from 'node:net'

/** Why RDS refused a token; logged server-side only, never sent to the client (DESIGN §4). */
export type RejectReason = 'InvalidToken' | 'ExpiredToken' | 'NotAuthorized' | 'ThrottlingException'

/** One login as a wire front sees it, after TLS and after the client sent its password (the token). */
export interface LoginAttempt {
  engine: 'postgres' | 'mysql'
  user: string
  database?: string
  password: string
  remoteAddress: string
}

/**
 * RDS Proxy's own documented refusals, which are not about the token: `borrow-timeout` is its
 * `MaxConnectionsPercent` pool exhausted ("Timed-out waiting to acquire database connection"),
 * `client-limit` its client-connection limit ("The maximum number of client connections to the
 * proxy exceeded …").
 */
export type ProxyRefusal = 'borrow-timeout' | 'client-limit'

export type LoginVerdict =
  | { ok: true }
  | { ok: false; reason: RejectReason }
  | { ok: false; proxyRefusal: ProxyRefusal }

/**
 * Which AWS endpoint a front presents: the service (RDS/Aurora, or Aurora DSQL on the PostgreSQL
 * front) and whether it stands in for RDS Proxy; it picks the documented refusal texts.
 */
export interface FrontFlavor {
  service: 'rds' | 'dsql'
  proxy: boolean
}

/**
 * What both wire fronts share: token verification plus the faults and counters of the
 * emulator. A front calls `authorize` once per login and reports every connection it
 * accepts so that `dropConnections()` and `stats().open` see it.
 */
export interface AuthGate {
  authorize(attempt: LoginAttempt): Promise<LoginVerdict>
  /**
   * Registers a relayed connection once its login succeeded: the client socket (plain or TLS) and
   * its upstream. Both are destroyed on dropConnections(), and when either closes the other is
   * destroyed too. `stats().open` counts the tracked clients still open. Calling it again with the
   * same client only adds the upstream. Connections still logging in are the front's to end on close.
   */
  track(client: Socket, upstream?: Socket): void
  /** Counts a connection that ended before a verdict (garbage, TLS failure, early disconnect). */
  protocolError(kind: string): void
  log(line: string): void
}

/** Everything a wire front needs to serve; built once by startEmulator. */
export interface FrontContext {
  gate: AuthGate
  /** PEM key and certificate chain the front presents after SSLRequest. */
  tls: { key: string; cert: string }
  /** Upstream URL (postgres://… or mysql://…); for postgres without one, the embedded PGlite URL. */
  upstream: string
  /** Default `{ service: 'rds', proxy: false }`. */
  flavor?: FrontFlavor
}
