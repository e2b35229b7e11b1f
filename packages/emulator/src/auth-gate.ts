import type { Socket } from 'node:net'
import type { AuthGate, LoginAttempt, LoginVerdict, ProxyRefusal, RejectReason } from './internal-types.js'
import type { TokenVerifier } from './token-verifier.js'

/** Outcome counters of an emulator; `open` counts relayed (authenticated) connections still open. */
export interface EmulatorStats {
  accepted: number
  rejected: Record<RejectReason, number>
  open: number
  /** Connections that ended before a verdict: garbage, oversize packets, TLS failures, timeouts, no TLS. */
  protocolErrors: number
  /** Logins refused by the `proxyRefuseNext` fault (RDS Proxy capacity refusals); always 0 without `proxy`. */
  proxyRefused: number
}

/** Failure injection, shared by both wire fronts. Every fault lasts until changed or `reset()`. */
export interface EmulatorFaults {
  /** The next `n` logins fail as a bad token would (reason InvalidToken), whatever they present. */
  rejectNext(n: number): void
  /** Tokens more than `seconds` whole seconds past their X-Amz-Date fail as ExpiredToken (RDS: 900); `null` restores the default. */
  maxTokenAge(seconds: number | null): void
  /** Waits `ms` before each authentication, as a slow IAM backend would. */
  latency(ms: number): void
  /** Above `perSecond` logins in any one-second window, logins fail with ThrottlingException; `null` turns it off. */
  throttle(perSecond: number | null): void
  /** Destroys every open relayed connection, client and upstream side, as a failover would. */
  dropConnections(): void
  /**
   * `proxy: true` only: the next `n` logins are refused by the proxy itself, before their token is
   * looked at, with RDS Proxy's documented text for `kind` (default `'borrow-timeout'`, the
   * `MaxConnectionsPercent` pool exhausted). Throws without `proxy`.
   */
  proxyRefuseNext(n: number, kind?: ProxyRefusal): void
  /** Clears every fault (counters are kept). */
  reset(): void
}

/** The gate as startEmulator owns it: the front-facing {@link AuthGate} plus stats and faults. */
export interface EmulatorAuthGate extends AuthGate {
  stats(): EmulatorStats
  readonly faults: EmulatorFaults
  /**
   * Ends authorizations still in their latency delay at once (they are refused, uncounted) and
   * refuses every later one, so stop() neither waits out a `latency` fault nor leaves a timer.
   */
  settle(): Promise<void>
}

/** How the gate is built; `now` is injectable so fault tests need no real clock. */
export interface AuthGateOptions {
  verifier: Pick<TokenVerifier, 'verify'>
  log?: ((line: string) => void) | undefined
  /** Standing in for RDS Proxy: enables the `proxyRefuseNext` fault. */
  proxy?: boolean
  now?: () => number
}

/**
 * Builds the gate both fronts authorize logins through: faults first (latency, throttle,
 * rejectNext), then the token verifier; every verdict is counted and logged with its RDS reason,
 * never with the token.
 */
export function createAuthGate(options: AuthGateOptions): EmulatorAuthGate {
  const now = options.now ?? Date.now
  const write = options.log ?? (() => {})
  const rejected: Record<RejectReason, number> = {
    InvalidToken: 0,
    ExpiredToken: 0,
    NotAuthorized: 0,
    ThrottlingException: 0,
  }
  let accepted = 0
  let protocolErrors = 0
  let proxyRefused = 0
  let proxyRemaining = 0
  let proxyKind: ProxyRefusal = 'borrow-timeout'
  /** Client socket → its upstream sockets. */
  const connections = new Map<Socket, Set<Socket>>()
  /** Latency-fault delays in progress: their timers and how to end them early. */
  const pendingDelays = new Map<ReturnType<typeof setTimeout>, () => void>()
  let closed = false

  let rejectRemaining = 0
  let maxTokenAgeSeconds: number | null = null
  let latencyMs = 0
  let throttlePerSecond: number | null = null
  /** Start times of logins in the last second, for the throttle fault's sliding window. */
  let recentLogins: number[] = []

  const log = (line: string): void => {
    try {
      write(escapeControlCharacters(line))
    } catch {
      // A throwing logger must not turn a login into a crash.
    }
  }

  const refuse = (attempt: LoginAttempt, reason: RejectReason, detail: string): LoginVerdict => {
    rejected[reason] += 1
    log(
      `${attempt.engine}: IAM authentication failed for user ${quote(attempt.user)} from ${attempt.remoteAddress}: ${reason} (${detail})`,
    )
    return { ok: false, reason }
  }

  const delay = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        pendingDelays.delete(timer)
        resolve()
      }, ms)
      pendingDelays.set(timer, resolve)
    })

  /** What a login gets once the emulator is stopping: refused, and not counted as a verdict. */
  const stopping: LoginVerdict = { ok: false, reason: 'InvalidToken' }

  const gate: EmulatorAuthGate = {
    async authorize(attempt) {
      if (closed) return stopping
      if (latencyMs > 0) {
        log(
          `${attempt.engine}: authentication for user ${quote(attempt.user)} from ${attempt.remoteAddress} delayed ${latencyMs} ms (latency fault)`,
        )
        await delay(latencyMs)
        if (closed) return stopping
      }
      if (proxyRemaining > 0) {
        proxyRemaining -= 1
        proxyRefused += 1
        log(
          `${attempt.engine}: RDS Proxy refused user ${quote(attempt.user)} from ${attempt.remoteAddress}: ${proxyKind} (proxyRefuseNext fault)`,
        )
        return { ok: false, proxyRefusal: proxyKind }
      }
      const t = now()
      if (throttlePerSecond !== null) {
        recentLogins = recentLogins.filter((at) => t - at < 1000)
        recentLogins.push(t)
        if (recentLogins.length > throttlePerSecond) {
          return refuse(
            attempt,
            'ThrottlingException',
            `more than ${throttlePerSecond} new IAM logins per second`,
          )
        }
      }
      if (rejectRemaining > 0) {
        rejectRemaining -= 1
        return refuse(attempt, 'InvalidToken', 'rejectNext fault')
      }
      const verdict = options.verifier.verify(attempt.password, attempt.user, { now: t, maxTokenAgeSeconds })
      if (!verdict.ok) return refuse(attempt, verdict.reason, verdict.detail)
      accepted += 1
      log(
        `${attempt.engine}: IAM authentication succeeded for user ${quote(attempt.user)} from ${attempt.remoteAddress} (key ${verdict.accessKeyId})`,
      )
      return { ok: true }
    },

    track(client, upstream) {
      if (client.destroyed) {
        upstream?.destroy()
        return
      }
      let upstreams = connections.get(client)
      if (upstreams === undefined) {
        upstreams = new Set()
        connections.set(client, upstreams)
        // Either side ending ends the pair: a relay must never keep half a session alive.
        client.once('close', () => {
          connections.delete(client)
          for (const u of upstreams ?? []) u.destroy()
        })
      }
      if (upstream !== undefined && !upstreams.has(upstream)) {
        upstreams.add(upstream)
        upstream.once('close', () => endAfterFlush(client))
        if (upstream.destroyed) endAfterFlush(client)
      }
    },

    protocolError(kind) {
      protocolErrors += 1
      log(`protocol error: ${kind}`)
    },

    log,

    stats() {
      return { accepted, rejected: { ...rejected }, open: connections.size, protocolErrors, proxyRefused }
    },

    async settle() {
      closed = true
      for (const [timer, resolve] of pendingDelays) {
        clearTimeout(timer)
        resolve()
      }
      pendingDelays.clear()
    },

    faults: {
      rejectNext(n) {
        rejectRemaining = checkCount('rejectNext', n)
      },
      maxTokenAge(seconds) {
        maxTokenAgeSeconds = seconds === null ? null : checkCount('maxTokenAge', seconds)
      },
      latency(ms) {
        latencyMs = checkCount('latency', ms)
      },
      throttle(perSecond) {
        throttlePerSecond = perSecond === null ? null : checkCount('throttle', perSecond)
        recentLogins = []
      },
      dropConnections() {
        const all = [...connections]
        log(`dropping ${all.length} open connection(s)`)
        for (const [client, upstreams] of all) {
          client.destroy()
          for (const u of upstreams) u.destroy()
        }
      },
      proxyRefuseNext(n, kind = 'borrow-timeout') {
        if (options.proxy !== true) {
          throw new TypeError('faults.proxyRefuseNext() needs an emulator started with proxy: true')
        }
        if (kind !== 'borrow-timeout' && kind !== 'client-limit') {
          throw new TypeError(
            `faults.proxyRefuseNext(): kind must be 'borrow-timeout' or 'client-limit', got ${String(kind)}`,
          )
        }
        proxyRemaining = checkCount('proxyRefuseNext', n)
        proxyKind = kind
      },
      reset() {
        proxyRemaining = 0
        rejectRemaining = 0
        maxTokenAgeSeconds = null
        latencyMs = 0
        throttlePerSecond = null
        recentLogins = []
      },
    },
  }
  return gate
}

/** How long a client may take to read what the upstream sent last before its socket is destroyed. */
const RELAY_LINGER_MS = 2_000

/**
 * Ends `socket` after what is queued on it has been written (the upstream's final error packet,
 * say), instead of discarding it; a client that does not read it within the linger is destroyed.
 */
export function endAfterFlush(socket: Socket): void {
  if (socket.destroyed) return
  socket.end()
  setTimeout(() => socket.destroy(), RELAY_LINGER_MS).unref()
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

/**
 * Control characters (newlines above all) written as escapes, so that text a client chose (a user
 * or database name, an upstream's message) can never start a forged log line of its own.
 */
export function escapeControlCharacters(line: string): string {
  return line.replace(CONTROL_CHARACTERS, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }
    const code = c.charCodeAt(0)
    return named[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`)
  })
}

/** A client-chosen value in double quotes, its quotes and backslashes escaped, so it cannot close the quote. */
export function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`
}

function checkCount(fault: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`faults.${fault}() needs a finite number >= 0, got ${String(value)}`)
  }
  return value
}
