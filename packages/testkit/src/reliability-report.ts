import { fileURLToPath } from 'node:url'

/** Where each adapter × engine writes its figures (inside the git-ignored `.rds-iam/`). */
export const RELIABILITY_RESULTS_DIR: string = fileURLToPath(
  new URL('../../../.rds-iam/reliability', import.meta.url),
)

/** The load-recovery goal of the issue; reported, never asserted (tests assert no timings). */
export const FAILOVER_RECOVERY_GOAL_MS = 2_000

/** The figures of one adapter × engine run of the reliability suite. */
export interface ReliabilityRow {
  adapter: string
  engine: string
  /** Writes acknowledged to workers in the expiry/rejection load. */
  writes: number
  /** Acknowledged writes missing from the database (all scenarios). */
  lost: number
  /** Keys present more than once (all scenarios). */
  duplicated: number
  /** Errors that reached application code where none may (load, limited storm). */
  userVisibleErrors: number
  expiredTokenLogins: number
  injectedRejections: number
  /** From each failover until the next acknowledged write, ms. */
  failoverRecoveryMs: number[]
  /** Writes in flight at a failover that were reported failed to their worker (allowed). */
  failoverFailedWrites: number
  throttledWithLimiter: number
  throttledWithoutLimiter: number
  refusalCallers: number
  refusalLogins: number
  refusalMaxLogins: number
  leaks: number
  scannedTexts: number
  /** Up to three distinct errors that reached workers in the load, as one line each. */
  sampleErrors: string[]
}

/**
 * Renders the figures as the markdown table of `docs/reliability.md`.
 *
 * @example
 * ```ts
 * console.log(renderReliabilityTable(rows))
 * ```
 */
export function renderReliabilityTable(rows: ReliabilityRow[]): string {
  const sorted = [...rows].sort((a, b) =>
    `${a.adapter} ${a.engine}`.localeCompare(`${b.adapter} ${b.engine}`),
  )
  const lines = [
    '| adapter | engine | writes | lost | duplicated | user-visible errors | expired-token logins | injected rejections | failover recovery (ms) | in-flight writes reported failed | throttled with / without limiter | refusal window: callers, logins (max) | leaks (texts scanned) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|---|---|',
  ]
  for (const r of sorted) {
    const recovery = r.failoverRecoveryMs
      .map((ms) => `${ms}${ms <= FAILOVER_RECOVERY_GOAL_MS ? '' : ' ⚠'}`)
      .join(', ')
    lines.push(
      `| ${r.adapter} | ${r.engine} | ${r.writes} | ${r.lost} | ${r.duplicated} | ${r.userVisibleErrors} | ${r.expiredTokenLogins} | ${r.injectedRejections} | ${recovery || '—'} | ${r.failoverFailedWrites} | ${r.throttledWithLimiter} / ${r.throttledWithoutLimiter} | ${r.refusalCallers}, ${r.refusalLogins} (${r.refusalMaxLogins}) | ${r.leaks} (${r.scannedTexts}) |`,
    )
  }
  return lines.join('\n')
}
