// The supported-version matrix: one source of truth for what `pnpm test:matrix` runs and for the
// drift check (test/version-drift.test.ts), which holds every adapter's peerDependencies, its
// SUPPORTED_*_VERSIONS constant and its README "Supported versions" section to these cells.
// Plain JavaScript so the runner starts on any Node without a TypeScript loader.

/**
 * The adapters and the range each declares. `peer` is the peer dependency whose range must equal
 * the constant `constant` in `src/supported-versions.ts`; `extraPeers` are further peers held to
 * the same constant (Prisma's adapters move in lockstep with the client).
 */
export const ADAPTERS = {
  pg: { dir: 'packages/pg', peer: 'pg', constant: 'SUPPORTED_PG_VERSIONS' },
  mysql2: { dir: 'packages/mysql2', peer: 'mysql2', constant: 'SUPPORTED_MYSQL2_VERSIONS' },
  knex: { dir: 'packages/knex', peer: 'knex', constant: 'SUPPORTED_KNEX_VERSIONS' },
  sequelize: { dir: 'packages/sequelize', peer: 'sequelize', constant: 'SUPPORTED_SEQUELIZE_VERSIONS' },
  typeorm: { dir: 'packages/typeorm', peer: 'typeorm', constant: 'SUPPORTED_TYPEORM_VERSIONS' },
  prisma: {
    dir: 'packages/prisma',
    peer: '@prisma/client',
    constant: 'SUPPORTED_PRISMA_VERSIONS',
    extraPeers: ['@prisma/adapter-pg', '@prisma/adapter-mariadb'],
  },
}

/**
 * Ranges that are not a peer dependency of their own but are declared by a constant and tested
 * here: the mariadb connector inside `@prisma/adapter-mariadb`.
 */
export const CONNECTORS = {
  mariadb: { adapter: 'prisma', constant: 'SUPPORTED_MARIADB_CONNECTOR_VERSIONS' },
}

/** The Node lines every cell's `node` names; 20 is the machine's, 22 and 24 come from npm. */
export const NODE_LINES = ['20', '22', '24']

/**
 * @typedef {object} VersionSource
 * @property {string} name the package as users install it (`pg`, `@prisma/client`)
 * @property {string} module what to resolve (the dev dependency or its pnpm alias)
 * @property {string} from the directory to resolve it from (repo-relative)
 * @property {boolean} [under] this is the version under test (lowest/newest), not a fixed helper
 */

const v = (name, module, from, under = true) => ({ name, module, from, under })

/** The driver copies the ORM adapters' tests run on (the workspace catalog's, not under test). */
const ormDrivers = (dir) => [v('pg', 'pg', dir, false), v('mysql2', 'mysql2', dir, false)]

const conformance = (dir, names) => names.map((n) => `${dir}/test/conformance.${n}.test.ts`)

const ALL = 'postgres,pglite,mysql'
const REAL = 'postgres,mysql'

/**
 * @typedef {object} MatrixCell
 * @property {string} id
 * @property {string} node one of NODE_LINES
 * @property {keyof ADAPTERS | 'built'} adapter
 * @property {string[]} projects vitest projects
 * @property {string[]} files vitest file filters (repo-relative paths)
 * @property {string} engines RDS_IAM_TEST_ENGINES
 * @property {VersionSource[]} versions
 */

/** Each version cell, run in full on Node 20. */
const VERSION_CELLS = [
  {
    id: 'pg-lowest',
    adapter: 'pg',
    projects: ['pg'],
    files: conformance('packages/pg', ['pg.postgres', 'pg.pglite']),
    engines: 'postgres,pglite',
    versions: [v('pg', 'pg', 'packages/pg')],
  },
  {
    id: 'pg-newest',
    adapter: 'pg',
    projects: ['pg'],
    files: conformance('packages/pg', ['pg-latest.postgres']),
    engines: 'postgres',
    versions: [v('pg', 'pg-latest', 'packages/pg')],
  },
  {
    id: 'mysql2-lowest',
    adapter: 'mysql2',
    projects: ['mysql2'],
    files: conformance('packages/mysql2', ['mysql2.mysql', 'mysql2-promise.mysql']),
    engines: 'mysql',
    versions: [v('mysql2', 'mysql2', 'packages/mysql2')],
  },
  {
    id: 'mysql2-newest',
    adapter: 'mysql2',
    projects: ['mysql2'],
    files: conformance('packages/mysql2', ['mysql2-latest.mysql']),
    engines: 'mysql',
    versions: [v('mysql2', 'mysql2-latest', 'packages/mysql2')],
  },
  {
    id: 'knex-lowest',
    adapter: 'knex',
    projects: ['knex'],
    files: conformance('packages/knex', ['knex.postgres', 'knex.pglite', 'knex.mysql']),
    engines: ALL,
    versions: [v('knex', 'knex', 'packages/knex'), ...ormDrivers('packages/knex')],
  },
  {
    id: 'knex-newest',
    adapter: 'knex',
    projects: ['knex'],
    files: conformance('packages/knex', ['knex-latest.postgres', 'knex-latest.pglite', 'knex-latest.mysql']),
    engines: ALL,
    versions: [v('knex', 'knex-latest', 'packages/knex'), ...ormDrivers('packages/knex')],
  },
  {
    id: 'sequelize-lowest',
    adapter: 'sequelize',
    projects: ['sequelize'],
    files: conformance('packages/sequelize', ['sequelize.postgres', 'sequelize.pglite', 'sequelize.mysql']),
    engines: ALL,
    versions: [v('sequelize', 'sequelize', 'packages/sequelize'), ...ormDrivers('packages/sequelize')],
  },
  {
    id: 'sequelize-newest',
    adapter: 'sequelize',
    projects: ['sequelize'],
    files: conformance('packages/sequelize', [
      'sequelize-latest.postgres',
      'sequelize-latest.pglite',
      'sequelize-latest.mysql',
    ]),
    engines: ALL,
    versions: [v('sequelize', 'sequelize-latest', 'packages/sequelize'), ...ormDrivers('packages/sequelize')],
  },
  ...[
    ['typeorm-0.3-lowest', 'typeorm'],
    ['typeorm-0.3-newest', 'typeorm-0.3-latest'],
    ['typeorm-1-lowest', 'typeorm-1-lowest'],
    ['typeorm-1-newest', 'typeorm-1-latest'],
  ].map(([id, alias]) => ({
    id,
    adapter: 'typeorm',
    projects: ['typeorm'],
    files: conformance('packages/typeorm', [`${alias}.postgres`, `${alias}.pglite`, `${alias}.mysql`]),
    engines: ALL,
    versions: [v('typeorm', alias, 'packages/typeorm'), ...ormDrivers('packages/typeorm')],
  })),
  {
    // Prisma 7.10 is both the lowest supported and the newest 7.x release.
    id: 'prisma-7',
    adapter: 'prisma',
    projects: ['prisma'],
    files: conformance('packages/prisma', ['prisma-pg.postgres', 'prisma-pg.pglite', 'prisma-mariadb.mysql']),
    engines: ALL,
    versions: [
      v('@prisma/client', '@prisma/client', 'packages/prisma'),
      v('@prisma/adapter-pg', '@prisma/adapter-pg', 'packages/prisma'),
      v('@prisma/adapter-mariadb', '@prisma/adapter-mariadb', 'packages/prisma'),
      v('mariadb', 'mariadb', 'packages/prisma/node_modules/@prisma/adapter-mariadb'),
      v('pg', 'pg', 'packages/prisma/node_modules/@prisma/adapter-pg', false),
    ],
  },
]

/** On Node 22 and 24: the newest of each adapter (real servers) and every built-package test. */
const NEWEST_ON_EVERY_NODE = [
  'pg-newest',
  'mysql2-newest',
  'knex-newest',
  'sequelize-newest',
  'typeorm-1-newest',
  'prisma-7',
]

const BUILT_CELL = {
  id: 'built-packages',
  adapter: 'built',
  projects: ['core', 'pg', 'mysql2', 'knex', 'sequelize', 'typeorm', 'prisma', 'emulator', 'cli'],
  // The ESM/CJS smoke tests of every built package, the lazy SDK loading and the CLI bin.
  files: ['smoke.dist.test.ts', 'packages/core/src/lazy-load.test.ts', 'packages/cli/src/bin.test.ts'],
  engines: ALL,
  versions: [],
}

/** @type {MatrixCell[]} */
export const CELLS = [
  ...VERSION_CELLS.map((cell) => ({ ...cell, node: '20' })),
  ...['22', '24'].flatMap((node) => [
    ...VERSION_CELLS.filter((cell) => NEWEST_ON_EVERY_NODE.includes(cell.id)).map((cell) => ({
      ...cell,
      id: `${cell.id}@node${node}`,
      node,
      engines: cell.engines === ALL ? REAL : cell.engines,
      // pglite files are left out on 22/24: the same code path as PostgreSQL, already run on 20.
      files: cell.files.filter((file) => !file.endsWith('.pglite.test.ts')),
    })),
    { ...BUILT_CELL, id: `built-packages@node${node}`, node },
  ]),
]
