import type { SqlDriverAdapterFactory } from '@prisma/client/runtime/client'
import { expectTypeOf, test } from 'vitest'
import type { PrismaMariaDbIam, PrismaPgIam } from '../src/index.js'

// `new PrismaClient({ adapter })` is typed with Prisma 7's SqlDriverAdapterFactory: both factories
// must be assignable to it, or TypeScript users could not pass them (checked by tsc on this file).
test('both adapters are Prisma 7 driver adapter factories', () => {
  expectTypeOf<PrismaPgIam>().toExtend<SqlDriverAdapterFactory>()
  expectTypeOf<PrismaMariaDbIam>().toExtend<SqlDriverAdapterFactory>()
})
