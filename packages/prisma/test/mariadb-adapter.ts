import type { ConnectionHandle, ConnectionSettings, Row } from '@rds-iam/testkit'
import { PrismaMariaDbIam, type PrismaMariaDbIamOptions } from '../src/index.js'

/** A PrismaMariaDbIam for the conformance settings (the emulator's CA as the user's own ssl). */
export function mariadbAdapter(
  s: ConnectionSettings,
  max: number,
  options?: PrismaMariaDbIamOptions,
): PrismaMariaDbIam {
  return new PrismaMariaDbIam(
    {
      host: s.host,
      port: s.port,
      user: s.user,
      database: s.database,
      ssl: s.ssl === false ? false : { ca: s.ssl.ca },
      iam: s.iam,
      connectionLimit: max,
      acquireTimeout: 10_000,
    },
    options,
  )
}

/** Holds one connection of the IAM pool inside a PrismaMariaDbIam (the pool Prisma queries through). */
export async function holdMariaDb(adapter: object): Promise<ConnectionHandle> {
  const iam = adapter as PrismaMariaDbIam
  // The pool opens on Prisma's first query; a held connection may come first.
  if (!iam.pool) await iam.connect()
  const conn = (await iam.pool!.getConnection()) as unknown as {
    query(sql: string): Promise<unknown>
    release(): Promise<void>
    destroy(): void
  }
  return {
    query: async (sql) => {
      const rows = await conn.query(sql)
      return (Array.isArray(rows) ? rows : []) as Row[]
    },
    release: async (destroy) => {
      if (destroy) conn.destroy()
      else await conn.release()
    },
  }
}
