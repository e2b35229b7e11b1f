import type { AwsCredentials, AwsCredentialsProvider } from './iam-options.js'

/** The part of `@aws-sdk/credential-providers` we use. */
export interface CredentialProvidersModule {
  fromNodeProviderChain(init?: object): AwsCredentialsProvider
  fromIni(init: { profile: string }): AwsCredentialsProvider
}

/** The part of `@aws-sdk/rds-signer` we use. */
export interface SignerModule {
  Signer: new (config: {
    hostname: string
    port: number
    username: string
    region: string
    credentials: AwsCredentials
  }) => { getAuthToken(): Promise<string> }
}

/** The part of `@aws-sdk/dsql-signer` we use. */
export interface DsqlSignerModule {
  DsqlSigner: new (config: {
    hostname: string
    region: string
    credentials: AwsCredentials
    expiresIn?: number
  }) => { getDbConnectAuthToken(): Promise<string>; getDbConnectAdminAuthToken(): Promise<string> }
}

let credentialProviders: Promise<CredentialProvidersModule> | undefined
let signerModule: Promise<SignerModule> | undefined
let dsqlSignerModule: Promise<DsqlSignerModule> | undefined

// Loaded on the first token, never at import: the SDK costs ~50 ms of cold start (DESIGN §8),
// which serverless users pay on every cold invocation even when no IAM connection is made.
export function loadCredentialProviders(): Promise<CredentialProvidersModule> {
  credentialProviders ??= import('@aws-sdk/credential-providers') as Promise<CredentialProvidersModule>
  credentialProviders.catch(() => {
    credentialProviders = undefined
  })
  return credentialProviders
}

export function loadSigner(): Promise<SignerModule> {
  signerModule ??= import('@aws-sdk/rds-signer') as unknown as Promise<SignerModule>
  signerModule.catch(() => {
    signerModule = undefined
  })
  return signerModule
}

export function loadDsqlSigner(): Promise<DsqlSignerModule> {
  dsqlSignerModule ??= import('@aws-sdk/dsql-signer') as unknown as Promise<DsqlSignerModule>
  dsqlSignerModule.catch(() => {
    dsqlSignerModule = undefined
  })
  return dsqlSignerModule
}
