import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  checkPeerVersion,
  installedPeerVersion,
  UNSUPPORTED_VERSION_WARNING,
  versionSatisfies,
} from './peer-version.js'

describe('versionSatisfies', () => {
  it.each([
    ['8.11.0', '>=8.11.0 <9', true],
    ['8.23.1', '>=8.11.0 <9', true],
    ['8.10.0', '>=8.11.0 <9', false],
    ['9.0.0', '>=8.11.0 <9', false],
    ['0.3.31', '>=0.3.20 <0.4 || >=1.0.0 <2', true],
    ['0.4.0', '>=0.3.20 <0.4 || >=1.0.0 <2', false],
    ['1.1.1', '>=0.3.20 <0.4 || >=1.0.0 <2', true],
    ['0.3.19', '>=0.3.20 <0.4 || >=1.0.0 <2', false],
    ['3.4.5', '3.4.5', true],
    ['3.4.6', '3.4.5', false],
    ['3.24.6', '^3.9.0', true],
    ['4.0.0', '^3.9.0', false],
    ['0.3.31', '~0.3.20', true],
    ['8.11.0-beta.1', '>=8.11.0 <9', true],
    ['7.10.0', '>= 7.10.0 < 8', true],
    ['not-a-version', '>=1', false],
  ])('%s in %s: %s', (version, range, expected) => {
    expect(versionSatisfies(version, range)).toBe(expected)
  })

  it('rejects a range form it does not understand instead of guessing', () => {
    expect(() => versionSatisfies('1.0.0', '1.x')).toThrow(/unsupported version comparator/)
  })
})

describe('installedPeerVersion', () => {
  it('reads the version of a resolvable package, also when its exports map hides package.json', () => {
    expect(installedPeerVersion('@aws-sdk/rds-signer', import.meta.url)).toMatch(/^3\./)
  })

  it('is undefined for a package that is not installed', () => {
    expect(installedPeerVersion('no-such-package-rds-iam', import.meta.url)).toBeUndefined()
  })
})

describe('checkPeerVersion', () => {
  afterEach(() => vi.restoreAllMocks())

  it('is quiet for a supported or unknown version', () => {
    const logger = { warn: vi.fn(), debug: vi.fn() }
    expect(checkPeerVersion('pg', '8.11.0', '>=8.11.0 <9', logger)).toBe(true)
    expect(checkPeerVersion('pg', undefined, '>=8.11.0 <9', logger)).toBe(true)
    expect(logger.warn).not.toHaveBeenCalled()
  })

  it('warns once through the logger, naming the package, its version and the supported range', () => {
    const logger = { warn: vi.fn(), debug: vi.fn() }
    expect(checkPeerVersion('knex', '2.5.1', '>=3.2.0 <4', logger)).toBe(false)
    expect(checkPeerVersion('knex', '2.5.1', '>=3.2.0 <4', logger)).toBe(false)
    expect(logger.warn).toHaveBeenCalledTimes(1)
    expect(logger.warn.mock.calls[0]![0]).toContain(
      'knex 2.5.1 is outside the versions rds-iam supports and tests (knex >=3.2.0 <4)',
    )
  })

  it('without a logger, emits a process warning with code RDS_IAM_UNSUPPORTED_VERSION', () => {
    // Captured here: the test setup turns any emitted process warning into a failure.
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    expect(checkPeerVersion('mysql2', '3.8.0', '>=3.9.0 <4')).toBe(false)
    expect(emit).toHaveBeenCalledTimes(1)
    const [message, options] = emit.mock.calls[0]! as unknown as [string, { code: string }]
    expect(message).toContain('mysql2 3.8.0 is outside')
    expect(message).toContain('>=3.9.0 <4')
    expect(options.code).toBe(UNSUPPORTED_VERSION_WARNING)
  })
})
