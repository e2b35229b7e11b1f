import { describe, expect, it } from 'vitest'
import {
  betterRatio,
  compare,
  interleave,
  median,
  pairedRatio,
  pairedSpread,
  quantile,
  roundSchedule,
} from './measure.js'
import { toMarkdown } from './report.js'

// Pure logic of the bench only: no timing is asserted anywhere.
describe('round scheduling', () => {
  it('runs every subject once per round, rotating which one starts', () => {
    expect(roundSchedule(['a', 'b', 'c'], 4)).toEqual([
      'a',
      'b',
      'c',
      'b',
      'c',
      'a',
      'c',
      'a',
      'b',
      'a',
      'b',
      'c',
    ])
    expect(roundSchedule(['a'], 0)).toEqual([])
  })

  it('interleave calls subjects A B, B A … and keeps their samples in round order', async () => {
    const calls: string[] = []
    let n = 0
    const result = await interleave(3, {
      a: async () => {
        calls.push('a')
        return ++n
      },
      b: async () => {
        calls.push('b')
        return ++n * 10
      },
    })
    expect(calls).toEqual(['a', 'b', 'b', 'a', 'a', 'b'])
    expect(result.a.samples).toEqual([1, 4, 5])
    expect(result.b.samples).toEqual([20, 30, 60])
    expect(result.a.median).toBe(4)
    expect(result.b.median).toBe(30)
  })
})

describe('ratios', () => {
  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
  })

  it('orients rates and times so that > 1 is better', () => {
    expect(betterRatio(200, 100, 'rate')).toBe(2)
    expect(betterRatio(50, 100, 'time')).toBe(2)
    expect(betterRatio(0, 100, 'rate')).toBeNull()
    expect(betterRatio(1, Number.NaN, 'rate')).toBeNull()
  })

  it('pairs samples by round, so a busy round weighs on both sides of its own ratio only', () => {
    // Round 2 ran on a loaded machine: both sides dropped, the pair's ratio did not.
    const subject = [100, 10, 100]
    const baseline = [100, 10, 50]
    expect(pairedRatio(subject, baseline, 'rate')).toBe(1)
    expect(pairedRatio([10, 20], [20, 40], 'time')).toBe(2)
    expect(pairedRatio([], [], 'rate')).toBeNull()
  })
})

describe('spread of the rounds', () => {
  it('quantiles interpolate between sorted values', () => {
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2)
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5)
  })

  it('reports the interquartile range of per-round ratios, none for fewer than 3 rounds', () => {
    expect(pairedSpread([1, 2, 3, 4, 5], [1, 1, 1, 1, 1], 'rate')).toEqual([2, 4])
    expect(pairedSpread([1, 2], [1, 1], 'rate')).toBeUndefined()
    expect(compare({ samples: [2, 2, 2] }, { samples: [1, 1, 1] }, 'rate')).toEqual({
      ratio: 2,
      ratioSpread: [2, 2],
    })
    expect(compare({ samples: [2] }, { samples: [1] }, 'rate')).toEqual({ ratio: 2 })
  })
})

describe('markdown table', () => {
  it('prints ratio and goal marks, and a dash for rows without a ratio', () => {
    const md = toMarkdown([
      {
        name: 'n',
        subject: 's',
        subjectValue: '1',
        baseline: 'b',
        baselineValue: '2',
        ratio: 0.5,
        goal: '≥ 1×',
        met: false,
      },
      {
        name: 'm',
        subject: 's',
        subjectValue: '1',
        baseline: 'b',
        baselineValue: '2',
        ratio: null,
        goal: 'report',
      },
      {
        name: 'k',
        subject: 's',
        subjectValue: '1',
        baseline: 'b',
        baselineValue: '2',
        ratio: 1,
        ratioSpread: [0.9, 1.25],
      },
    ])
    expect(md.split('\n')).toEqual([
      '| benchmark | subject | value | baseline | value | ratio | goal |',
      '| --- | --- | ---: | --- | ---: | ---: | --- |',
      '| n | s | 1 | b | 2 | 0.50× | ≥ 1× ❌ |',
      '| m | s | 1 | b | 2 | — | report |',
      '| k | s | 1 | b | 2 | 1.00× (0.90–1.25) |  |',
    ])
  })
})

describe('PostgreSQL wire messages of the minimal front-only client', () => {
  it('StartupMessage: length, protocol 3.0, then user and database as C strings', async () => {
    const { startupMessage } = await import('./connection-bench.js')
    const msg = startupMessage('u', 'db')
    expect(msg.readInt32BE(0)).toBe(msg.length)
    expect(msg.readInt32BE(4)).toBe(196608)
    expect(msg.subarray(8).toString()).toBe('user\0u\0database\0db\0\0')
  })

  it("PasswordMessage: 'p', a length that excludes the type byte, the password as a C string", async () => {
    const { passwordMessage } = await import('./connection-bench.js')
    const msg = passwordMessage('tok')
    expect(msg.subarray(0, 1).toString()).toBe('p')
    expect(msg.readInt32BE(1)).toBe(msg.length - 1)
    expect(msg.subarray(5).toString()).toBe('tok\0')
  })
})
