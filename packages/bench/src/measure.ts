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
      } catch {
        failed++
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
