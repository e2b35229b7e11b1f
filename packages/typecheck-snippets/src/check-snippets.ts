import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { type PublishedPackage, publishedPackages } from './public-api.ts'
import {
  buildSnippetModule,
  type SnippetContext,
  type SnippetModule,
  snippetNames,
} from './snippet-module.ts'
import { MISSING_REASON, markdownSnippets, type Snippet, tsdocSnippets } from './snippet-source.ts'
import { type DriverSet, installUserProject } from './user-install.ts'

type Format = 'esm' | 'cjs'

interface Mode {
  name: string
  options: ts.CompilerOptions
  /** Each snippet is compiled once per format: ESM as written, CommonJS wrapped. */
  formats: { format: Format; extension: string }[]
}

/** The module settings users have; node10 is TypeScript's default for `module: commonjs`. */
export const MODES: Mode[] = [
  {
    name: 'node16',
    options: { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 },
    formats: [
      { format: 'esm', extension: '.mts' },
      { format: 'cjs', extension: '.cts' },
    ],
  },
  {
    name: 'nodenext',
    options: { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
    formats: [
      { format: 'esm', extension: '.mts' },
      { format: 'cjs', extension: '.cts' },
    ],
  },
  {
    name: 'bundler',
    options: { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler },
    formats: [{ format: 'esm', extension: '.ts' }],
  },
  {
    name: 'node10',
    options: { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 },
    formats: [{ format: 'cjs', extension: '.ts' }],
  },
]

export const DRIVER_SETS: DriverSet[] = ['lowest', 'latest']

/** One problem, with every mode × driver set it showed up in. */
export interface SnippetFailure {
  /** `file:line` in the repository (or a path in the simulated install for a library error). */
  location: string
  code: string
  message: string
  where: string[]
}

export interface SnippetCheckResult {
  snippets: Snippet[]
  skipped: Snippet[]
  failures: SnippetFailure[]
  /** Snippets that compiled in every mode and driver set. */
  passed: number
  drivers: Record<DriverSet, Map<string, string>>
  programs: number
}

export interface SnippetCheckOptions {
  rootDir: string
  /** The directory of this package (its devDependencies are part of the simulated install). */
  harnessDir: string
  /** Scratch directory for the simulated user projects; emptied first. */
  workDir: string
  /** Only check these modes / driver sets (tests); default all. */
  modes?: string[]
  driverSets?: DriverSet[]
}

/**
 * Every README, docs page and TSDoc snippet the check covers, in file order, and the user code of
 * `cases/` (each file one snippet: type problems users reported, kept compiling).
 */
export function collectSnippets(rootDir: string, packages: PublishedPackage[]): Snippet[] {
  const out: Snippet[] = []
  const markdown = (path: string, packageDir: string | undefined) => {
    if (existsSync(join(rootDir, path))) {
      out.push(...markdownSnippets(readFileSync(join(rootDir, path), 'utf8'), path, packageDir))
    }
  }
  markdown('README.md', undefined)
  if (existsSync(join(rootDir, 'docs'))) {
    for (const entry of readdirSync(join(rootDir, 'docs'), { recursive: true, encoding: 'utf8' }).sort()) {
      if (entry.endsWith('.md')) markdown(join('docs', entry), undefined)
    }
  }
  const casesDir = join(rootDir, 'packages', 'typecheck-snippets', 'cases')
  if (existsSync(casesDir)) {
    for (const entry of readdirSync(casesDir).sort()) {
      if (!entry.endsWith('.ts')) continue
      const file = join('packages', 'typecheck-snippets', 'cases', entry)
      const lines = readFileSync(join(rootDir, file), 'utf8').replace(/\n$/, '').split('\n')
      out.push({ file, line: 1, lines, packageDir: undefined })
    }
  }
  for (const pkg of packages) {
    markdown(join('packages', pkg.dir, 'README.md'), pkg.dir)
    for (const [file, names] of [...pkg.publicDeclarations].sort(([a], [b]) => a.localeCompare(b))) {
      const text = readFileSync(join(rootDir, file), 'utf8')
      out.push(...tsdocSnippets(text, file, pkg.dir, (name) => names.has(name)))
    }
  }
  return out
}

/** The preamble files: `preamble/common.ts` for every snippet, `preamble/<dir>.ts` for a package's. */
export function loadPreamble(harnessDir: string, packageDir: string | undefined): Map<string, string> {
  const out = new Map<string, string>()
  for (const name of [packageDir, 'common']) {
    if (!name) continue
    const path = join(harnessDir, 'preamble', `${name}.ts`)
    if (!existsSync(path)) continue
    const text = readFileSync(path, 'utf8')
    const { imports } = snippetNames(text)
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true)
    for (const [local, line] of imports) if (!out.has(local)) out.set(local, line)
    for (const statement of source.statements) {
      if (ts.isImportDeclaration(statement)) continue
      const declared = ts.isVariableStatement(statement)
        ? statement.declarationList.declarations.map((d) => d.name.getText(source))
        : [(statement as { name?: ts.Node }).name?.getText(source)].filter(
            (n): n is string => n !== undefined,
          )
      for (const local of declared) if (!out.has(local)) out.set(local, statement.getText(source))
    }
  }
  return out
}

function packageExports(pkg: PublishedPackage | undefined, file: string) {
  if (!pkg) return []
  const subpaths = [...pkg.entries.keys()]
  // A snippet in an entry's own source file uses that entry; otherwise the main entry comes first.
  const own = subpaths.find((subpath) => pkg.entrySources.get(subpath) === file)
  const order = [own, '.', ...subpaths].filter(
    (s, i, all): s is string => s !== undefined && all.indexOf(s) === i,
  )
  return order.map((subpath) => ({
    module: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
    names: pkg.entries.get(subpath) ?? [],
  }))
}

/**
 * Compiles every snippet in every mode × driver set (one TypeScript program per pair) against a
 * simulated user install of the built packages.
 */
export function checkSnippets(options: SnippetCheckOptions): SnippetCheckResult {
  const { rootDir, harnessDir, workDir } = options
  const packages = publishedPackages(rootDir)
  const all = collectSnippets(rootDir, packages)
  const skipped = all.filter((s) => s.skipReason !== undefined)
  const checked = all.filter((s) => s.skipReason === undefined)
  const failures = new Map<string, SnippetFailure>()
  const failedSnippets = new Set<Snippet>()
  const fail = (location: string, code: string, message: string, where: string, snippet?: Snippet) => {
    if (snippet) failedSnippets.add(snippet)
    const key = `${location}\0${code}\0${message}`
    const entry = failures.get(key) ?? { location, code, message, where: [] }
    if (!entry.where.includes(where)) entry.where.push(where)
    failures.set(key, entry)
  }
  for (const snippet of all) {
    if (snippet.skipReason === MISSING_REASON || snippet.esmOnlyReason === MISSING_REASON) {
      fail(
        `${snippet.file}:${snippet.line - 1}`,
        'no-check',
        'an opt-out needs a reason: ```ts no-check: <why> (or esm-only: <why>)',
        'all',
      )
    }
  }
  for (const pkg of packages) {
    if (!existsSync(join(rootDir, 'packages', pkg.dir, 'dist'))) {
      fail(`packages/${pkg.dir}`, 'not-built', `${pkg.name} has no dist/: run the build first`, 'all')
    }
  }

  // Build each snippet's module text once per format; the earlier-imports context runs per file.
  const modules = new Map<Format, SnippetModule[]>()
  for (const format of ['esm', 'cjs'] as const) {
    const list: SnippetModule[] = []
    const earlier = new Map<string, Map<string, string>>()
    for (const snippet of checked) {
      const earlierImports = earlier.get(snippet.file) ?? new Map<string, string>()
      const pkg = packages.find((p) => p.dir === snippet.packageDir)
      const context: SnippetContext = {
        earlierImports,
        packageExports: packageExports(pkg, snippet.file),
        preamble: loadPreamble(harnessDir, snippet.packageDir),
      }
      const built = buildSnippetModule(snippet.lines, snippet.line, context, format === 'cjs')
      for (const [name, line] of built.imports) earlierImports.set(name, line)
      earlier.set(snippet.file, earlierImports)
      list.push(built.module)
    }
    modules.set(format, list)
  }

  const drivers = {} as Record<DriverSet, Map<string, string>>
  const sourceCache = new Map<string, ts.SourceFile>()
  let programs = 0
  for (const driverSet of options.driverSets ?? DRIVER_SETS) {
    const projectDir = join(workDir, driverSet)
    drivers[driverSet] = installUserProject(projectDir, packages, rootDir, harnessDir, driverSet)
    for (const mode of MODES.filter((m) => !options.modes || options.modes.includes(m.name))) {
      const snippetDir = join(projectDir, 'src', mode.name)
      mkdirSync(snippetDir, { recursive: true })
      const files = new Map<string, { snippet: Snippet; module: SnippetModule; format: Format }>()
      for (const { format, extension } of mode.formats) {
        checked.forEach((snippet, index) => {
          const module = modules.get(format)?.[index]
          if (!module || (format === 'cjs' && snippet.esmOnlyReason !== undefined)) return
          const name = `${String(index).padStart(3, '0')}-${snippet.file.replace(/[^A-Za-z0-9]+/g, '-')}-${snippet.line}-${format}${extension}`
          const path = join(snippetDir, name)
          writeFileSync(path, module.text)
          files.set(path, { snippet, module, format })
        })
      }
      const compilerOptions: ts.CompilerOptions = {
        ...mode.options,
        target: ts.ScriptTarget.ES2022,
        lib: ['lib.es2023.d.ts'],
        strict: true,
        esModuleInterop: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
        typeRoots: [join(projectDir, 'node_modules', '@types')],
      }
      const host = cachingHost(compilerOptions, sourceCache)
      const program = ts.createProgram({ rootNames: [...files.keys()], options: compilerOptions, host })
      programs++
      for (const problem of unresolvedImportsOfOurTypes(program, packages, compilerOptions, host)) {
        const where = `${mode.name} (${driverSet})`
        fail(`${relative(projectDir, problem.file)}:${problem.line}`, 'unresolved', problem.message, where)
      }
      for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
        const where = `${mode.name}${mode.formats.length > 1 ? `/${files.get(diagnostic.file?.fileName ?? '')?.format ?? '?'}` : ''} (${driverSet})`
        const code = `TS${diagnostic.code}`
        // The install's path differs per driver set; without it, one problem groups as one.
        const message = ts
          .flattenDiagnosticMessageText(diagnostic.messageText, '\n')
          .replaceAll(projectDir, '<project>')
        const origin = diagnostic.file ? files.get(diagnostic.file.fileName) : undefined
        if (!diagnostic.file || diagnostic.start === undefined) {
          fail('(compiler options)', code, message, where)
        } else if (!origin) {
          const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
          fail(`${relative(projectDir, diagnostic.file.fileName)}:${line + 1}`, code, message, where)
        } else {
          const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
          const lineOrigin = origin.module.origins[line]
          const location =
            lineOrigin?.kind === 'snippet'
              ? `${origin.snippet.file}:${lineOrigin.line}`
              : `${origin.snippet.file}:${origin.snippet.line} (added: ${lineOrigin?.text ?? '?'})`
          fail(location, code, message, where, origin.snippet)
        }
      }
    }
  }
  const passed = checked.filter((snippet) => !failedSnippets.has(snippet)).length
  return { snippets: checked, skipped, failures: [...failures.values()], passed, drivers, programs }
}

/** A library file (a real path in the pnpm store) is the same in every program: parse it once. */
function cachingHost(options: ts.CompilerOptions, cache: Map<string, ts.SourceFile>) {
  const host = ts.createCompilerHost(options, true)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (fileName, languageVersionOrOptions, onError, shouldCreate) => {
    const format =
      typeof languageVersionOrOptions === 'object' ? languageVersionOrOptions.impliedNodeFormat : ''
    const cacheable = fileName.includes('/node_modules/')
    const key = `${fileName}\0${format}`
    const hit = cacheable ? cache.get(key) : undefined
    if (hit) return hit
    const file = getSourceFile(fileName, languageVersionOrOptions, onError, shouldCreate)
    if (file && cacheable) cache.set(key, file)
    return file
  }
  return host
}

/**
 * With `skipLibCheck` (what users run with), an import in a published `.d.ts` that does not
 * resolve silently becomes `any`; a type from a devDependency would slip through. Every module
 * our declaration files name must resolve in the user's install.
 */
function unresolvedImportsOfOurTypes(
  program: ts.Program,
  packages: PublishedPackage[],
  options: ts.CompilerOptions,
  host: ts.CompilerHost,
): { file: string; line: number; message: string }[] {
  const ours = packages.map((pkg) => `/node_modules/${pkg.name}/`)
  const out: { file: string; line: number; message: string }[] = []
  // `node:tls` and friends are ambient modules of @types/node, not files.
  const ambient = new Set(
    program
      .getTypeChecker()
      .getAmbientModules()
      .map((symbol) => symbol.getName().replace(/^"|"$/g, '')),
  )
  for (const file of program.getSourceFiles()) {
    if (!ours.some((dir) => file.fileName.includes(dir))) continue
    const specifiers: ts.StringLiteralLike[] = []
    const visit = (node: ts.Node) => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
        if (ts.isStringLiteralLike(node.moduleSpecifier)) specifiers.push(node.moduleSpecifier)
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
        if (ts.isStringLiteralLike(node.argument.literal)) specifiers.push(node.argument.literal)
      }
      ts.forEachChild(node, visit)
    }
    visit(file)
    for (const specifier of specifiers) {
      const mode = ts.getModeForUsageLocation(file, specifier, options)
      const { resolvedModule } = ts.resolveModuleName(
        specifier.text,
        file.fileName,
        options,
        host,
        undefined,
        undefined,
        mode,
      )
      if (resolvedModule || ambient.has(specifier.text)) continue
      const { line } = file.getLineAndCharacterOfPosition(specifier.getStart(file))
      out.push({
        file: file.fileName,
        line: line + 1,
        message: `'${specifier.text}' does not resolve in a user's install (a devDependency, or a missing dependency?)`,
      })
    }
  }
  return out
}
