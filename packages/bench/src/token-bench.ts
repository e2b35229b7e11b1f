import { Signer } from '@aws-sdk/rds-signer'
import { createTokenProvider } from '@rds-iam/core'
import { format, opsPerSecond } from './measure.js'
import type { BenchRow } from './report.js'

// Static fake credentials: signing is local, so nothing here touches the network.
const credentials = { accessKeyId: 'AKIABENCHEXAMPLE0001', secretAccessKey: 'bench-secret-not-real' }
const target = { hostname: 'bench.abc123xyz.eu-west-1.rds.amazonaws.com', port: 5432, region: 'eu-west-1' }

export async function tokenBench(): Promise<BenchRow[]> {
  const provider = createTokenProvider({ ...target, username: 'bench_hit', credentials })
  await provider.getToken()
  const hitOps = await opsPerSecond(200_000, () => provider.getToken())

  const signerOps = await opsPerSecond(3_000, () =>
    new Signer({ ...target, username: 'bench_hit', credentials }).getAuthToken(),
  )
  const ratio = hitOps / signerOps

  // Cold storm: a provider nobody has used yet, hit by 1,000 callers at once.
  const cold = createTokenProvider({ ...target, username: `bench_storm_${process.pid}`, credentials })
  await Promise.all(Array.from({ length: 1000 }, () => cold.getToken()))
  const { signed, inflightJoins } = cold.stats()

  return [
    {
      name: 'token: cache hit',
      subject: '`provider.getToken()` (cached)',
      subjectValue: `${format(hitOps)} ops/s`,
      baseline: '`new Signer().getAuthToken()`',
      baselineValue: `${format(signerOps)} ops/s`,
      ratio,
      goal: '≥ 100×',
      met: ratio >= 100,
    },
    {
      name: 'token: cold storm',
      subject: '1,000 concurrent `getToken()`, cold',
      subjectValue: `${signed} signing(s), ${inflightJoins} joined`,
      baseline: 'one signing per caller without single-flight',
      baselineValue: '1,000 signings',
      ratio: 1000 / Math.max(signed, 1),
      goal: 'exactly 1 signing',
      met: signed === 1,
    },
  ]
}
