import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkSnippets, type SnippetCheckResult } from './check-snippets.ts'

const harnessDir = resolve(import.meta.dirname, '..')

// A repository with one published package whose built types differ from its source: the check
// must compile the README against `dist` (as a user gets it), never against `src`.
const files: Record<string, string> = {
  'packages/greet/package.json': JSON.stringify({
    name: '@demo/greet',
    version: '1.0.0',
    type: 'module',
    files: ['dist'],
    types: './dist/index.d.cts',
    exports: {
      '.': {
        'dev-source': './src/index.ts',
        import: { types: './dist/index.d.mts', default: './dist/index.mjs' },
        require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
      },
    },
    publishConfig: {
      exports: {
        '.': {
          import: { types: './dist/index.d.mts', default: './dist/index.mjs' },
          require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
        },
      },
    },
  }),
  'packages/greet/src/index.ts': [
    '/**',
    ' * @example',
    ' * ```ts',
    " * const text: string = greet('Ada')",
    ' * ```',
    ' */',
    'export function greet(name: string | number): string { return String(name) }',
    '/**',
    ' * @example',
    ' * ```ts',
    " * const n: number = shout('x')",
    ' * ```',
    ' */',
    'export function shout(text: string): string { return text }',
  ].join('\n'),
  'packages/greet/dist/index.d.mts':
    'export declare function greet(name: string): string\nexport declare function shout(text: string): string\n' +
    "export type Leaked = import('only-a-dev-dependency').Thing\n",
  'packages/greet/dist/index.d.cts':
    'export declare function greet(name: string): string\nexport declare function shout(text: string): string\n',
  'packages/greet/README.md': [
    '# @demo/greet', // 1
    '```ts', // 2
    "import { greet } from '@demo/greet'", // 3
    "const hello: string = greet('Ada')", // 4
    'greet(42)', // 5
    '```', // 6
    '```ts no-check: shows a shape only', // 7
    'greet(true)', // 8
    '```', // 9
    '```ts', // 10
    'const top = await Promise.resolve(greet(host))', // 11
    '```', // 12
  ].join('\n'),
}

let rootDir: string
let result: SnippetCheckResult

beforeAll(() => {
  rootDir = mkdtempSync(join(tmpdir(), 'snippets-repo-'))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(rootDir, path)), { recursive: true })
    writeFileSync(join(rootDir, path), text)
  }
  result = checkSnippets({
    rootDir,
    harnessDir,
    workDir: join(rootDir, '.work'),
    modes: ['node16', 'node10'],
    driverSets: ['latest'],
  })
})

afterAll(() => rmSync(rootDir, { recursive: true, force: true }))

describe('checkSnippets', () => {
  it('reports a wrong call at its README line, checked against the built types', () => {
    const failure = result.failures.find((f) => f.location === 'packages/greet/README.md:5')
    expect(failure?.code).toBe('TS2345')
    expect([...(failure?.where ?? [])].sort()).toEqual([
      'node10 (latest)',
      'node16/cjs (latest)',
      'node16/esm (latest)',
    ])
  })

  it('reports a TSDoc example at its source line, and passes a correct one', () => {
    expect(result.failures.map((f) => f.location)).toContain('packages/greet/src/index.ts:11')
    expect(result.failures.map((f) => f.location)).not.toContain('packages/greet/src/index.ts:4')
  })

  it('compiles top-level await as ESM and wrapped as CommonJS, with the preamble for `host`', () => {
    expect(result.failures.filter((f) => f.location.startsWith('packages/greet/README.md:11'))).toEqual([])
  })

  it('reports a published declaration that imports a module the user does not have', () => {
    const failure = result.failures.find((f) => f.code === 'unresolved')
    expect(failure?.location).toBe('node_modules/@demo/greet/dist/index.d.mts:3')
    expect(failure?.message).toContain("'only-a-dev-dependency'")
  })

  it('skips an opted-out block and counts what passed', () => {
    expect(result.skipped.map((s) => [s.file, s.line, s.skipReason])).toEqual([
      ['packages/greet/README.md', 8, 'shows a shape only'],
    ])
    expect(result.failures.map((f) => f.location)).not.toContain('packages/greet/README.md:8')
    expect(result.snippets).toHaveLength(4)
    expect(result.passed).toBe(2)
    expect(result.programs).toBe(2)
  })
})
