import type { ConnectionHandle, ConnectionSettings, Row } from '@rds-iam/testkit'
import { PrismaPgIam, type PrismaPgIamOptions } from '../src/index.js'

/** A PrismaPgIam for the conformance settings (the emulator's CA as the user's own ssl). */
export function pgAdapter(s: ConnectionSettings, max: number, options?: PrismaPgIamOptions): PrismaPgIam {
  return new PrismaPgIam(
    {
      host: s.host,
      port: s.port,
      user: s.user,
      database: s.database,
      ssl: s.ssl,
      iam: s.iam,
      max,
      connectionTimeoutMillis: 5000,
    },
    options,
  )
}

/** Holds one connection of the pool inside a PrismaPgIam (the pool Prisma queries through). */
export async function holdPg(adapter: object): Promise<ConnectionHandle> {
  const pool = (adapter as PrismaPgIam).pool
  if (!pool) throw new Error('the adapter has no pool (disposed?)')
  const client = await pool.connect()
  return {
    query: async (sql) => (await client.query(sql)).rows as Row[],
    release: (destroy) => client.release(destroy === true),
  }
}
