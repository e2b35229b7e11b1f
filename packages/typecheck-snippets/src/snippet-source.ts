import ts from 'typescript'

/** One TypeScript code block found in a README, a docs page or a TSDoc `@example`. */
export interface Snippet {
  /** Repository-relative path of the file the block is in. */
  file: string
  /** 1-based line, in `file`, of the block's first code line. */
  line: number
  /** The code, one entry per line of `file` starting at `line`. */
  lines: string[]
  /** `packages/<dir>` the snippet documents (its auto-imports and preamble); undefined for root docs. */
  packageDir: string | undefined
  /** Set when the block opted out with `no-check: <reason>`. */
  skipReason?: string
  /** Set by `esm-only: <reason>` (e.g. it uses `import.meta`): not compiled as CommonJS. */
  esmOnlyReason?: string
}

/** A fence info string that opts out without a reason; reported as a failure of the snippet. */
export const MISSING_REASON = '(no reason given)'

const TS_LANGS = new Set(['ts', 'typescript', 'mts', 'cts'])

/**
 * The info string after the backticks: ```` ```ts ```` is checked, ```` ```ts no-check: why ```` is
 * not, ```` ```ts esm-only: why ```` is checked as ESM only. The reason is required, so an opt-out
 * is always explained where it is made.
 */
export function parseFenceInfo(info: string): {
  typescript: boolean
  skipReason?: string
  esmOnlyReason?: string
} {
  const [lang = '', ...rest] = info.trim().split(/\s+/)
  if (!TS_LANGS.has(lang.toLowerCase())) return { typescript: false }
  const meta = rest.join(' ')
  const marker = /(?:^|\s)(no-check|esm-only)(?::\s*(.*))?$/.exec(meta)
  if (!marker) return { typescript: true }
  const reason = marker[2]?.trim() || MISSING_REASON
  return marker[1] === 'no-check'
    ? { typescript: true, skipReason: reason }
    : { typescript: true, esmOnlyReason: reason }
}

/** Every ```ts block of a markdown text; `firstLine` is the 1-based line of `text`'s first line. */
export function markdownSnippets(
  text: string,
  file: string,
  packageDir: string | undefined,
  firstLine = 1,
): Snippet[] {
  const out: Snippet[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(lines[i] ?? '')
    if (!open) continue
    const [, indent = '', fence = '', info = ''] = open
    const start = i + 1
    let end = start
    while (end < lines.length && !(lines[end] ?? '').trim().startsWith(fence)) end++
    const parsed = parseFenceInfo(info)
    if (parsed.typescript) {
      const body = lines
        .slice(start, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
      out.push({
        file,
        line: firstLine + start,
        lines: body,
        packageDir,
        ...(parsed.skipReason ? { skipReason: parsed.skipReason } : {}),
        ...(parsed.esmOnlyReason ? { esmOnlyReason: parsed.esmOnlyReason } : {}),
      })
    }
    i = end
  }
  return out
}

/**
 * The `@example` blocks of the TSDoc on `publicNames` declarations of a source file (and on the
 * members of those declarations, e.g. an option of a public interface). An example without a
 * fence is taken as TypeScript, as TSDoc does.
 */
export function tsdocSnippets(
  sourceText: string,
  file: string,
  packageDir: string,
  isPublic: (name: string) => boolean,
): Snippet[] {
  const source = ts.createSourceFile(file, sourceText, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const out: Snippet[] = []
  const seen = new Set<number>()
  const visitDocs = (node: ts.Node) => {
    for (const doc of ts.getJSDocCommentsAndTags(node)) {
      const comment = ts.isJSDoc(doc) ? doc : doc.parent
      if (!ts.isJSDoc(comment) || seen.has(comment.pos)) continue
      seen.add(comment.pos)
      out.push(...examplesOfComment(sourceText, comment, source, file, packageDir))
    }
  }
  const visitMembers = (node: ts.Node) => {
    if (ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node)) {
      for (const member of node.members) visitDocs(member)
    } else if (ts.isTypeAliasDeclaration(node) && ts.isTypeLiteralNode(node.type)) {
      for (const member of node.type.members) visitDocs(member)
    }
  }
  for (const statement of source.statements) {
    if (!hasExportModifier(statement)) continue
    for (const name of declaredNames(statement)) {
      if (!isPublic(name)) continue
      visitDocs(statement)
      visitMembers(statement)
      break
    }
  }
  return out
}

/** `export function …`, `export const …`, `export interface …` (not `export { … }`). */
export function hasExportModifier(node: ts.Node): boolean {
  return (
    ts.canHaveModifiers(node) &&
    (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
  )
}

function declaredNames(statement: ts.Statement): string[] {
  if (ts.isVariableStatement(statement)) {
    return statement.declarationList.declarations.flatMap((d) =>
      ts.isIdentifier(d.name) ? [d.name.text] : [],
    )
  }
  const name = (statement as { name?: ts.Node }).name
  return name && ts.isIdentifier(name) ? [name.text] : []
}

function examplesOfComment(
  sourceText: string,
  comment: ts.JSDoc,
  source: ts.SourceFile,
  file: string,
  packageDir: string,
): Snippet[] {
  const out: Snippet[] = []
  for (const tag of comment.tags ?? []) {
    if (tag.tagName.text !== 'example') continue
    // The raw lines of the tag, with the ` * ` gutter taken off, keep their line numbers.
    const startLine = source.getLineAndCharacterOfPosition(tag.tagName.end).line
    const endLine = source.getLineAndCharacterOfPosition(tag.end).line
    const raw = sourceText.split('\n').slice(startLine, endLine + 1)
    const stripped = raw.map((line, index) => {
      let text =
        index === 0 ? line.slice(source.getLineAndCharacterOfPosition(tag.tagName.end).character) : line
      text = text.replace(/\*\/\s*$/, '')
      return index === 0 ? text : text.replace(/^\s*\* ?/, '').replace(/^\s*\*$/, '')
    })
    const text = stripped.join('\n')
    if (/^\s*(```|~~~)/m.test(text)) {
      out.push(...markdownSnippets(text, file, packageDir, startLine + 1))
    } else {
      // The example text starts on the tag's own line when it does not start right after it.
      const body = stripped[0]?.trim() === '' ? stripped.slice(1) : stripped
      const first = stripped[0]?.trim() === '' ? startLine + 2 : startLine + 1
      while (body.length > 0 && body[body.length - 1]?.trim() === '') body.pop()
      if (body.length > 0) out.push({ file, line: first, lines: body, packageDir })
    }
  }
  return out
}
