export { isAuthError, isProxyCapacityError } from './auth-error.js'
export { authFailureHint, withAuthRetry } from './auth-retry.js'
export { type RdsIamErrorCode, RdsIamErrorCodes } from './codes.js'
export type { ConnectionAuth, ConnectionAuthContext, ConnectionAuthInput } from './connection-auth.js'
export { createConnectionAuth } from './connection-auth.js'
export type {
  AwsCredentials,
  AwsCredentialsProvider,
  IamLogger,
  IamOption,
  IamOptions,
  IamService,
  RetryPolicy,
} from './iam-options.js'
export { DSQL_MAX_EXPIRES_IN_SECONDS, normalizeIamOptions } from './iam-options.js'
export type { SignFn, SignRequest, TokenProviderHooks } from './internal-types.js'
export { explainNoTls, isNoTlsError } from './no-tls.js'
export { requirePeer } from './peer-dependency.js'
export {
  checkPeerVersion,
  installedPeerVersion,
  UNSUPPORTED_VERSION_WARNING,
  versionSatisfies,
} from './peer-version.js'
export { DEFAULT_MAX_NEW_CONNECTIONS_PER_SECOND, throttleNewConnection } from './rate-limit.js'
export type { RdsEndpointKind, RdsHostnameInfo } from './rds-hostname.js'
export { parseRdsHostname } from './rds-hostname.js'
export { isRdsIamError, RdsIamError, unsupportedDriver } from './rds-iam-error.js'
export type { TlsTarget } from './rds-tls.js'
export { nodeDefaultCa, rdsTls, resolveTls } from './rds-tls.js'
export type {
  DatabaseEngine,
  TokenProvider,
  TokenProviderOptions,
  TokenProviderStats,
  TokenTarget,
} from './token-provider.js'
export { createTokenProvider } from './token-provider.js'
