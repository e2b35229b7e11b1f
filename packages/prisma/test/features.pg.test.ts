import { PrismaPgIam } from '../src/index.js'
import { runFeatureCases } from './prisma-features.js'
import { adminExec } from './raw-admin.js'

runFeatureCases({
  label: 'PrismaPgIam',
  engine: 'pglite',
  flavour: 'pg',
  adapter: (emu, user) =>
    new PrismaPgIam({
      host: emu.host,
      port: emu.port,
      user,
      database: 'postgres',
      ssl: { ca: emu.ca },
      iam: { region: emu.region, credentials: emu.credentials[0]! },
    }),
})

// On the shared PostgreSQL the suite owns a schema; PrismaPg's `schema` option points Prisma at it.
runFeatureCases({
  label: 'PrismaPgIam',
  engine: 'postgres',
  flavour: 'pg',
  isolate: {
    setup: (name) => adminExec('postgres', [`create schema "${name}"`]),
    teardown: (name) => adminExec('postgres', [`drop schema if exists "${name}" cascade`]),
  },
  adapter: (emu, user, schema) =>
    new PrismaPgIam(
      {
        host: emu.host,
        port: emu.port,
        user,
        database: 'test',
        ssl: { ca: emu.ca },
        iam: { region: emu.region, credentials: emu.credentials[0]! },
      },
      { schema },
    ),
})
