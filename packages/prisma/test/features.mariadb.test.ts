import { PrismaMariaDbIam } from '../src/index.js'
import { runFeatureCases } from './prisma-features.js'
import { adminExec } from './raw-admin.js'

// The suite owns a database on the shared MariaDB; the IAM pool's default database is that one.
runFeatureCases({
  label: 'PrismaMariaDbIam',
  engine: 'mysql',
  flavour: 'mysql',
  isolate: {
    setup: (name) => adminExec('mysql', [`create database \`${name}\``]),
    teardown: (name) => adminExec('mysql', [`drop database if exists \`${name}\``]),
  },
  adapter: (emu, user, database) =>
    new PrismaMariaDbIam(
      {
        host: emu.host,
        port: emu.port,
        user,
        database,
        ssl: { ca: emu.ca },
        iam: { region: emu.region, credentials: emu.credentials[0]! },
      },
      { database },
    ),
})
