import type { SqlDriverAdapterFactory } from '@prisma/client/runtime/client'
import type { TokenProvider } from '@rds-iam/core'

/** What `new PrismaClient({ adapter })` takes (Prisma 7's own type), which both factories implement. */
export type PrismaDriverAdapterFactory = SqlDriverAdapterFactory

/** What a factory's `connect()` resolves to (Prisma does not export the name). */
export type PrismaDriverAdapter = Awaited<ReturnType<SqlDriverAdapterFactory['connect']>>

/** The part of a Prisma SQL driver adapter (what a factory's `connect()` returns) that this package wraps. */
export interface SqlAdapterLike {
  provider: string
  adapterName: string
  queryRaw(query: unknown): Promise<unknown>
  executeRaw(query: unknown): Promise<number>
  startTransaction(isolationLevel?: unknown): Promise<unknown>
  executeScript(script: string): Promise<void>
  dispose(): Promise<void>
  [key: string]: unknown
}

/** A Prisma driver adapter factory (`PrismaPg`, `PrismaMariaDb`): what `new PrismaClient({ adapter })` takes. */
export interface AdapterFactoryLike {
  provider: string
  adapterName: string
  connect(): Promise<SqlAdapterLike>
  connectToShadowDb?(): Promise<SqlAdapterLike>
}

/** What the factories of this package remember for {@link getTokenProvider}. */
export interface ProviderHolder {
  tokenProvider(): TokenProvider
}
