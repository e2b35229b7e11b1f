import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { selectedEngines, TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { getRdsIamError, isPrismaAuthError, PrismaMariaDbIam, PrismaPgIam } from '../src/index.js'
import { loadPrismaClient } from './prisma-fixtures.js'

// Review finding: the README said isPrismaAuthError is true for refused credentials "in any
// shape", but the adapter's own final error (a PrismaClientKnownRequestError with code
// RDS_IAM_AUTH_FAILED, thrown after the retries were spent) is false by design: an error rds-iam
// gave up on is not one to retry again. The README now says so and names getRdsIamError(err)?.code;
// this pins both halves of that sentence on a real refused login.
const engines = selectedEngines(['postgres', 'pglite', 'mysql'])

describe.each(engines)('the final RDS_IAM_AUTH_FAILED through Prisma (%s)', (engine) => {
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator({
      engine: engine === 'mysql' ? 'mysql' : 'postgres',
      upstream: engine === 'pglite' ? undefined : TEST_URLS[engine],
    })
  })
  afterAll(() => emu?.stop())

  test('isPrismaAuthError is false for it; getRdsIamError(err)?.code names it', async () => {
    const settings = {
      host: emu.host,
      port: emu.port,
      user: `shape_${engine}_${process.pid}`,
      database: engine === 'pglite' ? 'postgres' : 'test',
      ssl: { ca: emu.ca },
      iam: {
        region: emu.region,
        credentials: emu.credentials[0]!,
        retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
      },
    }
    const prisma =
      engine === 'mysql'
        ? new (loadPrismaClient('mysql'))({ adapter: new PrismaMariaDbIam(settings) })
        : new (loadPrismaClient('pg'))({ adapter: new PrismaPgIam(settings) })
    // Every login is refused: the adapter spends its attempts and gives up.
    emu.faults.rejectNext(1000)
    try {
      const error = await prisma.$queryRawUnsafe('select 1').catch((err: unknown) => err)
      expect((error as { name?: string }).name).toBe('PrismaClientKnownRequestError')
      expect((error as { code?: string }).code).toBe('RDS_IAM_AUTH_FAILED')
      expect(isPrismaAuthError(error)).toBe(false)
      expect(getRdsIamError(error)?.code).toBe('RDS_IAM_AUTH_FAILED')
      // The driver's own refusal is still there, one level down.
      expect(isPrismaAuthError(getRdsIamError(error)?.cause)).toBe(true)
    } finally {
      emu.faults.reset()
      await prisma.$disconnect()
    }
  })
})
