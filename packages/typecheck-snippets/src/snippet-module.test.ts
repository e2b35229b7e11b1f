import { describe, expect, it } from 'vitest'
import { buildSnippetModule, replaceEllipses, type SnippetContext, snippetNames } from './snippet-module.ts'

const context = (overrides: Partial<SnippetContext> = {}): SnippetContext => ({
  earlierImports: new Map(),
  packageExports: [{ module: '@rds-iam/pg', names: ['Pool', 'withIam'] }],
  preamble: new Map([
    ['host', 'declare const host: string'],
    ['provider', 'declare const provider: TokenProvider'],
    ['TokenProvider', "import type { TokenProvider } from '@rds-iam/core'"],
  ]),
  ...overrides,
})

describe('replaceEllipses', () => {
  it('turns a code ellipsis into a comment, leaving strings and comments alone', () => {
    expect(replaceEllipses("f((err, rows) => { … }, '…') // …")).toBe("f((err, rows) => { /*…*/ }, '…') // …")
    // A template literal's text, written without `${` in this file's own strings.
    const template = 'const t = `$' + '{a}…$' + '{b}`; '
    expect(replaceEllipses(`${template}g(…)`)).toBe(`${template}g(/*…*/)`)
  })
})

describe('snippetNames', () => {
  it('tells declared names from used ones, keys and member names excluded', () => {
    const { declared, used } = snippetNames(
      "import pg from 'pg'\nconst pool = new Pool({ host, user: 'app' })\npool.query(sql)",
    )
    expect([...declared].sort()).toEqual(['pg', 'pool'])
    expect([...used].sort()).toEqual(['Pool', 'host', 'pool', 'sql'])
  })
})

describe('buildSnippetModule', () => {
  it('adds what the snippet uses and does not declare: package exports first, then the preamble, transitively', () => {
    const { module } = buildSnippetModule(
      ['const pool = new Pool({ host })', 'provider.invalidate()'],
      10,
      context(),
      false,
    )
    const lines = module.text.split('\n')
    expect(lines).toContain("import { Pool } from '@rds-iam/pg'")
    expect(lines).toContain('declare const host: string')
    expect(lines).toContain("import type { TokenProvider } from '@rds-iam/core'")
    // Snippet lines keep their source line numbers.
    const at = lines.indexOf('const pool = new Pool({ host })')
    expect(module.origins[at]).toEqual({ kind: 'snippet', line: 10 })
    expect(module.origins[at + 1]).toEqual({ kind: 'snippet', line: 11 })
  })

  it('never shadows a name the snippet declares itself', () => {
    const { module } = buildSnippetModule(["const host = 'db'", 'new Pool({ host })'], 1, context(), false)
    expect(module.text).not.toContain('declare const host')
  })

  it('reuses the imports of earlier snippets of the same file', () => {
    const earlierImports = new Map([['createPool', "import { createPool } from '@rds-iam/mysql2/promise'"]])
    const { module } = buildSnippetModule(['createPool({ host })'], 1, context({ earlierImports }), false)
    expect(module.text).toContain("import { createPool } from '@rds-iam/mysql2/promise'")
  })

  it('for CommonJS, keeps imports on top and wraps the rest in an async function without exports', () => {
    const { module } = buildSnippetModule(
      ["import pg from 'pg'", 'export const client = new pg.Client()', 'await client.connect()'],
      5,
      context(),
      true,
    )
    const lines = module.text.split('\n')
    const wrapper = lines.indexOf('export async function snippet(): Promise<void> {')
    expect(lines.indexOf("import pg from 'pg'")).toBeLessThan(wrapper)
    expect(lines[wrapper + 1]).toBe('       const client = new pg.Client()')
    expect(module.origins[wrapper + 2]).toEqual({ kind: 'snippet', line: 7 })
  })
})
