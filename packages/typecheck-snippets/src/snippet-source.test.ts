import { describe, expect, it } from 'vitest'
import { MISSING_REASON, markdownSnippets, parseFenceInfo, tsdocSnippets } from './snippet-source.ts'

describe('parseFenceInfo', () => {
  it('checks ts and typescript blocks, not other languages', () => {
    expect(parseFenceInfo('ts')).toEqual({ typescript: true })
    expect(parseFenceInfo('typescript')).toEqual({ typescript: true })
    expect(parseFenceInfo('sh')).toEqual({ typescript: false })
    expect(parseFenceInfo('js')).toEqual({ typescript: false })
  })

  it('opts out only with a marker, and keeps its reason', () => {
    expect(parseFenceInfo('ts no-check: needs a generated Prisma client')).toEqual({
      typescript: true,
      skipReason: 'needs a generated Prisma client',
    })
    expect(parseFenceInfo('ts esm-only: uses import.meta')).toEqual({
      typescript: true,
      esmOnlyReason: 'uses import.meta',
    })
    expect(parseFenceInfo('ts no-check')).toEqual({ typescript: true, skipReason: MISSING_REASON })
  })
})

describe('markdownSnippets', () => {
  it('finds every ts block with the line of its first code line', () => {
    const text = [
      '# Title',
      '',
      '```ts',
      'const a = 1',
      '```',
      '',
      '```sh',
      'npm i',
      '```',
      '```ts no-check: why',
      'x',
      '```',
    ].join('\n')
    const found = markdownSnippets(text, 'README.md', 'pg')
    expect(found).toEqual([
      { file: 'README.md', line: 4, lines: ['const a = 1'], packageDir: 'pg' },
      { file: 'README.md', line: 11, lines: ['x'], packageDir: 'pg', skipReason: 'why' },
    ])
  })
})

describe('tsdocSnippets', () => {
  const source = [
    '/**', // 1
    ' * Adds.', // 2
    ' *', // 3
    ' * @example', // 4
    ' * ```ts', // 5
    ' * const three = add(1, 2)', // 6
    ' * ```', // 7
    ' */', // 8
    'export function add(a: number, b: number) { return a + b }', // 9
    '/**', // 10
    ' * @example', // 11
    ' * ```ts', // 12
    ' * internal()', // 13
    ' * ```', // 14
    ' */', // 15
    'export function internal() {}', // 16
    'export interface Options {', // 17
    '  /**', // 18
    '   * @example', // 19
    '   * ```ts', // 20
    '   * const o: Options = { retries: 2 }', // 21
    '   * ```', // 22
    '   */', // 23
    '  retries?: number', // 24
    '}', // 25
  ].join('\n')

  it('takes the examples of public declarations and their members, at their source lines', () => {
    const found = tsdocSnippets(source, 'src/add.ts', 'core', (name) => name !== 'internal')
    expect(found.map((s) => [s.line, s.lines])).toEqual([
      [6, ['const three = add(1, 2)']],
      [21, ['const o: Options = { retries: 2 }']],
    ])
  })
})
