import { loadCredentialProviders } from './aws-sdk-loader.js'
import type { AwsCredentials, AwsCredentialsProvider } from './iam-options.js'
import { RdsIamError } from './rds-iam-error.js'
import { sharedRegistry } from './shared-registry.js'

/** A resolved credential source: a stable id (part of the token cache key) and how to resolve it. */
export interface CredentialSource {
  readonly id: string
  resolve(forceRefresh?: boolean): Promise<AwsCredentials>
}

// Built lazily and once: a new default chain per token would re-read files and re-call
// IMDS/STS on every connection (DESIGN §10: Lambda bursts, STS latency).
function lazyProvider(id: string, build: () => Promise<AwsCredentialsProvider>): CredentialSource {
  let provider: Promise<AwsCredentialsProvider> | undefined
  return {
    id,
    async resolve(forceRefresh) {
      provider ??= build()
      provider.catch(() => {
        provider = undefined
      })
      const fn = await provider
      return fn(forceRefresh ? { forceRefresh: true } : {})
    },
  }
}

/**
 * Returns the one credential source for these options: the default chain once per process,
 * `fromIni` once per profile, user credentials and functions keyed by object identity.
 * @internal
 */
export function credentialSourceFor(
  credentials: AwsCredentials | AwsCredentialsProvider | undefined,
  profile?: string,
): CredentialSource {
  const registry = sharedRegistry()
  if (credentials !== undefined) {
    const known = registry.sourcesByIdentity.get(credentials)
    if (known) return known
    const id = `c${registry.nextSourceId++}`
    const source: CredentialSource =
      typeof credentials === 'function'
        ? { id, resolve: (forceRefresh) => credentials(forceRefresh ? { forceRefresh: true } : {}) }
        : { id, resolve: async () => credentials }
    registry.sourcesByIdentity.set(credentials, source)
    return source
  }
  if (profile !== undefined) {
    let source = registry.sourcesByProfile.get(profile)
    if (!source) {
      source = lazyProvider(`profile:${profile}`, async () =>
        (await loadCredentialProviders()).fromIni({ profile }),
      )
      registry.sourcesByProfile.set(profile, source)
    }
    return source
  }
  registry.defaultChain ??= lazyProvider('default', async () =>
    (await loadCredentialProviders()).fromNodeProviderChain(),
  )
  return registry.defaultChain
}

/**
 * Resolves credentials within `timeoutMs`; a provider that throws, hangs or returns garbage
 * becomes `RDS_IAM_CREDENTIALS` with the original error as `cause`.
 * @internal
 */
export async function resolveCredentials(
  source: CredentialSource,
  timeoutMs: number,
  forceRefresh = false,
): Promise<AwsCredentials> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new RdsIamError(
          'RDS_IAM_CREDENTIALS',
          `the AWS credential provider did not answer within ${timeoutMs} ms`,
          'check network access to the credential source (IMDS, ECS, SSO, STS) or pass iam.credentials / iam.profile explicitly',
        ),
      )
    }, timeoutMs)
  })
  try {
    const creds = await Promise.race([source.resolve(forceRefresh), timeout])
    if (!creds || typeof creds.accessKeyId !== 'string' || typeof creds.secretAccessKey !== 'string') {
      throw new RdsIamError(
        'RDS_IAM_CREDENTIALS',
        'the AWS credential provider returned no access key',
        'make the provider resolve { accessKeyId, secretAccessKey, sessionToken? }',
      )
    }
    return creds
  } catch (err) {
    if (err instanceof RdsIamError) throw err
    throw new RdsIamError(
      'RDS_IAM_CREDENTIALS',
      'could not load AWS credentials',
      'configure credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance/task role) or pass iam.credentials / iam.profile',
      { cause: err },
    )
  } finally {
    clearTimeout(timer)
  }
}
