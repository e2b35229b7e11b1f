import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SUPPORTED_KNEX_VERSIONS } from '@rds-iam/knex'
import { SUPPORTED_MYSQL2_VERSIONS } from '@rds-iam/mysql2'
import { SUPPORTED_PG_VERSIONS } from '@rds-iam/pg'
import { SUPPORTED_MARIADB_CONNECTOR_VERSIONS, SUPPORTED_PRISMA_VERSIONS } from '@rds-iam/prisma'
import { SUPPORTED_DIALECTS, SUPPORTED_SEQUELIZE_VERSIONS } from '@rds-iam/sequelize'
import { SUPPORTED_TYPEORM_VERSIONS } from '@rds-iam/typeorm'
import { expect, test } from 'vitest'

const readme = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'README.md')

// The root README's "Supported versions" table quotes each package's SUPPORTED_* constant; a
// changed range must change the README too.
test("the root README's supported versions are each package's SUPPORTED_* constants", async () => {
  const text = await readFile(readme, 'utf8')
  const section = text.slice(text.indexOf('## Supported versions'), text.indexOf('## Packages'))
  const row = (pkg: string) => section.split('\n').find((l) => l.startsWith(`| [\`@rds-iam/${pkg}\`]`)) ?? ''
  const quoted = (range: string) => `\`${range.replaceAll('||', '\\|\\|')}\``
  expect(row('pg')).toContain(quoted(SUPPORTED_PG_VERSIONS))
  expect(row('mysql2')).toContain(quoted(SUPPORTED_MYSQL2_VERSIONS))
  expect(row('knex')).toContain(quoted(SUPPORTED_KNEX_VERSIONS))
  expect(row('sequelize')).toContain(quoted(SUPPORTED_SEQUELIZE_VERSIONS))
  expect(row('sequelize')).toContain(SUPPORTED_DIALECTS.map((d) => `\`${d}\``).join(', '))
  expect(row('typeorm')).toContain(quoted(SUPPORTED_TYPEORM_VERSIONS))
  expect(row('prisma')).toContain(quoted(SUPPORTED_PRISMA_VERSIONS))
  expect(row('prisma')).toContain(quoted(SUPPORTED_MARIADB_CONNECTOR_VERSIONS))
})
