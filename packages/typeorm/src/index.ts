export type { IamOption, IamOptions, TokenProvider } from '@rds-iam/core'
export { RdsIamError } from '@rds-iam/core'
export { SUPPORTED_TYPEORM_VERSIONS } from './supported-versions.js'
export type { TokenProviders } from './token-providers.js'
export { getTokenProvider, getTokenProviders } from './token-providers.js'
export type {
  IamAppliedDataSourceOptions,
  IamCapableDataSourceOptions,
  IamDataSourceOptions,
  TypeormInjection,
} from './with-iam.js'
export { withIam } from './with-iam.js'
