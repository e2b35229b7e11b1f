import { performance } from 'node:perf_hooks'

/** Runs `op` sequentially `iterations` times and returns operations per second. */
export async function opsPerSecond(
  iterations: number,
  op: () => Promise<unknown> | unknown,
): Promise<number> {
  const warmup = Math.min(100, Math.ceil(iterations / 10))
  for (let i = 0; i < warmup; i++) await op()
  const start = performance.now()
  for (let i = 0; i < iterations; i++) await op()
  const seconds = (performance.now() - start) / 1000
  return iterations / seconds
}

/** Operations that threw during any `throughput` run of this process; the run reports them. */
export const failures = { count: 0, first: '' }

/**
 * Runs `op` from `concurrency` workers until `durationMs` has passed; returns completed ops/s.
 * Bounded in time by construction, so a slow server cannot make the benchmark hang.
 */
export async function throughput(
  durationMs: number,
  concurrency: number,
  op: () => Promise<unknown>,
): Promise<{ perSecond: number; completed: number; failed: number }> {
  let completed = 0
  let failed = 0
  const deadline = performance.now() + durationMs
  const start = performance.now()
  const worker = async () => {
    while (performance.now() < deadline) {
      try {
        await op()
        completed++
      } catch (err) {
        failed++
        failures.count++
        failures.first ||= err instanceof Error ? err.message : String(err)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const seconds = (performance.now() - start) / 1000
  return { perSecond: completed / seconds, completed, failed }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const format = (n: number, digits = 1) =>
  n >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits)

/** One subject of an interleaved comparison: `measure` runs once per round and returns its figure. */
export type RoundSubject = () => Promise<number>

/**
 * The order `interleave` runs its subjects in: every subject once per round, the starting subject
 * rotating each round (A B C, B C A, C A B, A B C …), so no subject always runs right after the
 * same neighbour (whose garbage, sockets closing and CPU frequency it would inherit).
 */
export function roundSchedule<K extends string>(keys: readonly K[], rounds: number): K[] {
  const order: K[] = []
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < keys.length; i++) order.push(keys[(r + i) % keys.length]!)
  }
  return order
}

/**
 * Measures every subject once per round (see `roundSchedule`) and returns each subject's samples,
 * in round order, and their median. Machine noise (other processes, GC, CPU frequency) then lands on all subjects
 * alike instead of on whichever happened to run during a busy second.
 */
export async function interleave<K extends string>(
  rounds: number,
  subjects: Record<K, RoundSubject>,
): Promise<Record<K, { median: number; samples: number[] }>> {
  const keys = Object.keys(subjects) as K[]
  const samples = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>
  for (const key of roundSchedule(keys, rounds)) samples[key].push(await subjects[key]())
  return Object.fromEntries(
    keys.map((k) => [k, { median: median(samples[k]), samples: samples[k] }]),
  ) as Record<K, { median: number; samples: number[] }>
}

/** Ratio oriented so that > 1 is better: rates compare subject/baseline, times baseline/subject. */
export function betterRatio(subject: number, baseline: number, kind: 'rate' | 'time'): number | null {
  if (!(subject > 0) || !(baseline > 0)) return null
  return kind === 'rate' ? subject / baseline : baseline / subject
}

/** Runs `op` one at a time until `durationMs` has passed; returns mean milliseconds per op. */
export async function sequentialMs(durationMs: number, op: () => Promise<unknown>): Promise<number> {
  let completed = 0
  const start = performance.now()
  const deadline = start + durationMs
  while (performance.now() < deadline || completed === 0) {
    await op()
    completed++
  }
  return (performance.now() - start) / completed
}

/**
 * The median of per-round ratios (`betterRatio` of round i's subject and baseline samples). Under a
 * load that changes from second to second this is steadier than the ratio of two medians: each
 * round's pair ran back to back, so both saw about the same machine.
 */
export function pairedRatio(subject: number[], baseline: number[], kind: 'rate' | 'time'): number | null {
  const ratios = roundRatios(subject, baseline, kind)
  return ratios.length ? median(ratios) : null
}

/** The per-round ratios' interquartile range: how far the rounds disagreed (the noise of the run). */
export function pairedSpread(
  subject: number[],
  baseline: number[],
  kind: 'rate' | 'time',
): [number, number] | undefined {
  const ratios = roundRatios(subject, baseline, kind).sort((a, b) => a - b)
  if (ratios.length < 3) return undefined
  return [quantile(ratios, 0.25), quantile(ratios, 0.75)]
}

function roundRatios(subject: number[], baseline: number[], kind: 'rate' | 'time'): number[] {
  const ratios: number[] = []
  for (let i = 0; i < Math.min(subject.length, baseline.length); i++) {
    const r = betterRatio(subject[i]!, baseline[i]!, kind)
    if (r !== null) ratios.push(r)
  }
  return ratios
}

/** Linear-interpolated quantile of sorted values. */
export function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

/** `ratio` and `ratioSpread` of a row comparing two interleaved subjects. */
export function compare(
  subject: { samples: number[] },
  baseline: { samples: number[] },
  kind: 'rate' | 'time',
): { ratio: number | null; ratioSpread?: [number, number] } {
  const spread = pairedSpread(subject.samples, baseline.samples, kind)
  return {
    ratio: pairedRatio(subject.samples, baseline.samples, kind),
    ...(spread ? { ratioSpread: spread } : {}),
  }
}
