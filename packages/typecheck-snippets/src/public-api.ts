import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { hasExportModifier } from './snippet-source.ts'

/** A published package of the repository, as the snippet check sees it. */
export interface PublishedPackage {
  /** Folder under `packages/`, e.g. `mysql2`. */
  dir: string
  name: string
  manifest: Record<string, unknown>
  /** Entry subpath (`.`, `./promise`) → the names it exports, in declaration order. */
  entries: Map<string, string[]>
  /** Entry subpath → its source file (the `dev-source` target), repository-relative. */
  entrySources: Map<string, string>
  /** Repository-relative source file → local names in it that some entry exports. */
  publicDeclarations: Map<string, Set<string>>
}

/** Every non-private package under `packages/` (new ones are picked up without any change here). */
export function publishedPackages(rootDir: string): PublishedPackage[] {
  const out: PublishedPackage[] = []
  for (const dir of readdirSync(join(rootDir, 'packages')).sort()) {
    const manifestPath = join(rootDir, 'packages', dir, 'package.json')
    if (!existsSync(manifestPath)) continue
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>
    if (manifest.private) continue
    out.push(describePackage(rootDir, dir, manifest))
  }
  return out
}

function describePackage(rootDir: string, dir: string, manifest: Record<string, unknown>): PublishedPackage {
  const entries = new Map<string, string[]>()
  const entrySources = new Map<string, string>()
  const publicDeclarations = new Map<string, Set<string>>()
  const exportsMap = (manifest.exports ?? {}) as Record<string, unknown>
  for (const [subpath, target] of Object.entries(exportsMap)) {
    const source =
      typeof target === 'object' && target !== null
        ? (target as Record<string, unknown>)['dev-source']
        : undefined
    if (typeof source !== 'string') continue
    const sourcePath = resolve(rootDir, 'packages', dir, source)
    if (!existsSync(sourcePath)) continue
    entrySources.set(subpath, relative(rootDir, sourcePath))
    entries.set(subpath, collectExports(rootDir, sourcePath, publicDeclarations, new Set()))
  }
  return { dir, name: String(manifest.name), manifest, entries, entrySources, publicDeclarations }
}

/**
 * The names a module exports (value and type), following `export … from './x.js'` into the
 * package's own files and recording which local declaration each one is.
 */
function collectExports(
  rootDir: string,
  file: string,
  publicDeclarations: Map<string, Set<string>>,
  visiting: Set<string>,
): string[] {
  if (visiting.has(file) || !existsSync(file)) return []
  visiting.add(file)
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const names: string[] = []
  const mark = (target: string, local: string) => {
    const key = relative(rootDir, target)
    const set = publicDeclarations.get(key) ?? new Set<string>()
    set.add(local)
    publicDeclarations.set(key, set)
  }
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      const specifier =
        statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)
          ? statement.moduleSpecifier.text
          : undefined
      const target = specifier?.startsWith('.')
        ? resolve(dirname(file), specifier.replace(/\.js$/, '.ts'))
        : undefined
      if (!statement.exportClause) {
        // `export * from './x.js'`
        if (target) names.push(...collectExports(rootDir, target, publicDeclarations, visiting))
      } else if (ts.isNamedExports(statement.exportClause)) {
        for (const element of statement.exportClause.elements) {
          names.push(element.name.text)
          const local = (element.propertyName ?? element.name).text
          if (target) mark(target, local)
          else if (!specifier) mark(file, local)
        }
      }
      continue
    }
    if (!hasExportModifier(statement)) continue
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name)) {
          names.push(declaration.name.text)
          mark(file, declaration.name.text)
        }
      }
    } else {
      const name = (statement as { name?: ts.Node }).name
      if (name && ts.isIdentifier(name)) {
        names.push(name.text)
        mark(file, name.text)
      }
    }
  }
  visiting.delete(file)
  return names
}
