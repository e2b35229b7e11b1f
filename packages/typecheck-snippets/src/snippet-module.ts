import ts from 'typescript'

/** Where a line of a generated module came from: a snippet line, or an added declaration. */
export type LineOrigin = { kind: 'snippet'; line: number } | { kind: 'added'; text: string }

export interface SnippetModule {
  text: string
  /** Index = 0-based line of `text`. */
  origins: LineOrigin[]
}

/** What a snippet may use without declaring it, in the order the names are looked up. */
export interface SnippetContext {
  /** Imports written by earlier snippets of the same file (a README reads top to bottom). */
  earlierImports: Map<string, string>
  /** Exports of the documented package: `import { name } from '<module>'`. */
  packageExports: { module: string; names: readonly string[] }[]
  /** Declarations from the preamble files (`declare const host: string`, imports of peers). */
  preamble: Map<string, string>
}

/**
 * `…` is how docs say "your code here" (`(err, rows) => { … }`); it is not TypeScript, so it
 * becomes a comment. Inside strings and comments it is left alone.
 */
export function replaceEllipses(code: string): string {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, code)
  const cuts: number[] = []
  // A `}` closes either a block or a template's `${`: only the scanner's caller can tell which.
  const open: ('brace' | 'template')[] = []
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    if (token === ts.SyntaxKind.Unknown && scanner.getTokenText() === '…') cuts.push(scanner.getTokenStart())
    else if (token === ts.SyntaxKind.OpenBraceToken) open.push('brace')
    else if (token === ts.SyntaxKind.TemplateHead) open.push('template')
    else if (token === ts.SyntaxKind.CloseBraceToken) {
      if (open.at(-1) === 'template') {
        if (scanner.reScanTemplateToken(false) === ts.SyntaxKind.TemplateTail) open.pop()
      } else open.pop()
    }
  }
  let out = code
  for (const at of cuts.reverse()) out = `${out.slice(0, at)}/*…*/${out.slice(at + 1)}`
  return out
}

/** Names a snippet declares anywhere (imports, variables, functions, parameters, types) and names it uses. */
export function snippetNames(code: string): {
  declared: Set<string>
  used: Set<string>
  imports: Map<string, string>
} {
  const source = ts.createSourceFile('snippet.ts', code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const declared = new Set<string>()
  const used = new Set<string>()
  const imports = new Map<string, string>()
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !statement.importClause) continue
    const from = statement.moduleSpecifier.getText(source)
    const clause = statement.importClause
    const typeOnly = clause.isTypeOnly ? 'type ' : ''
    if (clause.name) imports.set(clause.name.text, `import ${typeOnly}${clause.name.text} from ${from}`)
    const bindings = clause.namedBindings
    if (bindings && ts.isNamespaceImport(bindings)) {
      imports.set(bindings.name.text, `import ${typeOnly}* as ${bindings.name.text} from ${from}`)
    } else if (bindings) {
      for (const element of bindings.elements) {
        const spec = element.propertyName
          ? `${element.propertyName.text} as ${element.name.text}`
          : element.name.text
        const elementType = element.isTypeOnly && !clause.isTypeOnly ? 'type ' : ''
        imports.set(element.name.text, `import ${typeOnly}{ ${elementType}${spec} } from ${from}`)
      }
    }
  }
  const visit = (node: ts.Node) => {
    if (ts.isIdentifier(node)) {
      const parent = node.parent
      const isDeclarationName = (parent as { name?: ts.Node }).name === node && isDeclaration(parent)
      if (isDeclarationName) declared.add(node.text)
      else if (!isNonReference(node, parent)) used.add(node.text)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return { declared, used, imports }
}

function isDeclaration(node: ts.Node): boolean {
  return (
    ts.isVariableDeclaration(node) ||
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isClassDeclaration(node) ||
    ts.isClassExpression(node) ||
    ts.isInterfaceDeclaration(node) ||
    ts.isTypeAliasDeclaration(node) ||
    ts.isEnumDeclaration(node) ||
    ts.isModuleDeclaration(node) ||
    ts.isParameter(node) ||
    ts.isBindingElement(node) ||
    ts.isImportClause(node) ||
    ts.isImportSpecifier(node) ||
    ts.isNamespaceImport(node) ||
    ts.isImportEqualsDeclaration(node) ||
    ts.isTypeParameterDeclaration(node)
  )
}

function isNonReference(node: ts.Identifier, parent: ts.Node): boolean {
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return true
  if (ts.isQualifiedName(parent) && parent.right === node) return true
  if (ts.isBindingElement(parent) && parent.propertyName === node) return true
  if (ts.isImportSpecifier(parent) || ts.isExportSpecifier(parent)) return true
  if (ts.isLabeledStatement(parent) || ts.isBreakOrContinueStatement(parent)) return true
  // Keys and member names: `{ host: h }`, `class { run() {} }`, `interface { port: number }`.
  const named = (parent as { name?: ts.Node }).name === node
  return (
    named &&
    (ts.isPropertyAssignment(parent) ||
      ts.isPropertyDeclaration(parent) ||
      ts.isPropertySignature(parent) ||
      ts.isMethodDeclaration(parent) ||
      ts.isMethodSignature(parent) ||
      ts.isGetAccessor(parent) ||
      ts.isSetAccessor(parent) ||
      ts.isEnumMember(parent) ||
      ts.isPropertyAccessExpression(parent))
  )
}

/**
 * The module that is type-checked for one snippet: the declarations it needs but does not make
 * (looked up in `context`), then the snippet. For CommonJS (`wrap`), the snippet's imports stay on
 * top and the rest goes into an async function, as a CommonJS user writes it (no top-level await).
 */
export function buildSnippetModule(
  lines: string[],
  firstLine: number,
  context: SnippetContext,
  wrap: boolean,
) {
  const code = replaceEllipses(lines.join('\n'))
  const codeLines = (wrap ? withoutExports(code) : code).split('\n')
  const { declared, used, imports } = snippetNames(code)
  // An added declaration may itself name a type from the preamble (`declare const p: TokenProvider`).
  const added: string[] = []
  const pending = [...used]
  const resolved = new Set<string>()
  while (pending.length > 0) {
    const name = pending.shift() as string
    if (declared.has(name) || resolved.has(name)) continue
    resolved.add(name)
    const fromEarlier = context.earlierImports.get(name)
    const fromPackage = context.packageExports.find((entry) => entry.names.includes(name))
    const fromPreamble = context.preamble.get(name)
    const text =
      fromEarlier ?? (fromPackage ? `import { ${name} } from '${fromPackage.module}'` : fromPreamble)
    if (!text || added.includes(text)) continue
    added.push(text)
    if (text === fromPreamble) pending.push(...snippetNames(text).used)
  }
  const out: string[] = []
  const origins: LineOrigin[] = []
  for (const text of added) {
    const [first = ''] = text.split('\n')
    for (const line of text.split('\n')) {
      out.push(line)
      origins.push({ kind: 'added', text: first })
    }
  }
  const importLines = wrap ? topLevelImportLines(code) : new Set<number>()
  for (const index of importLines) {
    out.push(codeLines[index] ?? '')
    origins.push({ kind: 'snippet', line: firstLine + index })
  }
  if (wrap) {
    out.push('export async function snippet(): Promise<void> {')
    origins.push({ kind: 'added', text: '(CommonJS wrapper)' })
  }
  codeLines.forEach((text, index) => {
    if (importLines.has(index)) return
    out.push(text)
    origins.push({ kind: 'snippet', line: firstLine + index })
  })
  if (wrap) {
    out.push('}')
    origins.push({ kind: 'added', text: '(CommonJS wrapper)' })
  }
  // An empty export keeps a snippet without imports a module, so snippets do not share a scope.
  out.push('export {}')
  origins.push({ kind: 'added', text: 'export {}' })
  return { module: { text: out.join('\n'), origins } satisfies SnippetModule, imports }
}

/** 0-based lines that hold only top-level import declarations (hoisted out of the CJS wrapper). */
function topLevelImportLines(code: string): Set<number> {
  const source = ts.createSourceFile('snippet.ts', code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const importLines = new Set<number>()
  const otherLines = new Set<number>()
  for (const statement of source.statements) {
    const start = source.getLineAndCharacterOfPosition(statement.getStart(source)).line
    const end = source.getLineAndCharacterOfPosition(statement.end).line
    const target =
      ts.isImportDeclaration(statement) || ts.isImportEqualsDeclaration(statement) ? importLines : otherLines
    for (let line = start; line <= end; line++) target.add(line)
  }
  for (const line of otherLines) importLines.delete(line)
  return importLines
}

/**
 * An `export` cannot stand inside the CommonJS wrapper function; the keyword is blanked (same
 * columns, so error positions stay right) and `export { … }` lists are dropped.
 */
function withoutExports(code: string): string {
  const source = ts.createSourceFile('snippet.ts', code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  let out = code
  const blank = (start: number, end: number) => {
    out = out.slice(0, start) + out.slice(start, end).replace(/[^\n]/g, ' ') + out.slice(end)
  }
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement) || ts.isExportAssignment(statement)) {
      blank(statement.getStart(source), statement.end)
      continue
    }
    if (!ts.canHaveModifiers(statement)) continue
    for (const modifier of ts.getModifiers(statement) ?? []) {
      if (modifier.kind === ts.SyntaxKind.ExportKeyword || modifier.kind === ts.SyntaxKind.DefaultKeyword) {
        blank(modifier.getStart(source), modifier.end)
      }
    }
  }
  return out
}
