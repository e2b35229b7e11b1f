/**
 * Every code an {@link RdsIamError} can carry. One list, so docs, tests and adapters agree.
 *
 * @example
 * ```ts
 * if (err instanceof RdsIamError && err.code === RdsIamErrorCodes.NO_REGION) { … }
 * ```
 */
export const RdsIamErrorCodes = {
  /** Bad configuration: unknown `iam` key, wrong type, `iam` together with a password, missing host. */
  INVALID_OPTIONS: 'RDS_IAM_INVALID_OPTIONS',
  /** No region from `iam.region`, the hostname, `AWS_REGION` or `AWS_DEFAULT_REGION`. */
  NO_REGION: 'RDS_IAM_NO_REGION',
  /** The credential provider threw or did not answer in time. */
  CREDENTIALS: 'RDS_IAM_CREDENTIALS',
  /** The AWS SDK could not be loaded or could not sign. */
  SIGNING_FAILED: 'RDS_IAM_SIGNING_FAILED',
  /** A token would travel over a connection without TLS. */
  INSECURE_TRANSPORT: 'RDS_IAM_INSECURE_TRANSPORT',
  /** The database refused the token after every retry. */
  AUTH_FAILED: 'RDS_IAM_AUTH_FAILED',
  /** The driver cannot use a per-connection token (e.g. pg-native). */
  UNSUPPORTED_DRIVER: 'RDS_IAM_UNSUPPORTED_DRIVER',
} as const

/** The union of every {@link RdsIamErrorCodes} value. */
export type RdsIamErrorCode = (typeof RdsIamErrorCodes)[keyof typeof RdsIamErrorCodes]
