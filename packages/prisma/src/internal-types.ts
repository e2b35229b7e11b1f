import type { TokenProvider } from '@rds-iam/core'

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
