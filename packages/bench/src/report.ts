import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** One benchmark row: a measured figure next to its baseline from the same run. */
export interface BenchRow {
  name: string
  subject: string
  subjectValue: string
  baseline: string
  baselineValue: string
  /** subject relative to baseline, oriented so that > 1 means "better than baseline". */
  ratio: number | null
  /**
   * Interquartile range of the per-round ratios, when the row compares interleaved rounds: how far
   * the rounds disagreed. A goal inside this range is not decided by the run.
   */
  ratioSpread?: [number, number]
  goal?: string
  met?: boolean
}

export function toMarkdown(rows: BenchRow[]): string {
  const lines = [
    '| benchmark | subject | value | baseline | value | ratio | goal |',
    '| --- | --- | ---: | --- | ---: | ---: | --- |',
  ]
  for (const r of rows) {
    const x = (n: number) => (n >= 100 ? String(Math.round(n)) : n.toFixed(2))
    const spread = r.ratioSpread ? ` (${x(r.ratioSpread[0])}–${x(r.ratioSpread[1])})` : ''
    const ratio = r.ratio === null ? '—' : `${x(r.ratio)}×${spread}`
    const goal = r.goal ? `${r.goal} ${r.met === undefined ? '' : r.met ? '✅' : '❌'}`.trim() : ''
    lines.push(
      `| ${r.name} | ${r.subject} | ${r.subjectValue} | ${r.baseline} | ${r.baselineValue} | ${ratio} | ${goal} |`,
    )
  }
  return lines.join('\n')
}

export function saveJson(rows: BenchRow[], meta: Record<string, unknown>): string {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, 'latest.json')
  writeFileSync(file, `${JSON.stringify({ ...meta, rows }, null, 2)}\n`)
  return file
}
