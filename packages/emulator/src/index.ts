export type { EmulatorAuthGate, EmulatorFaults, EmulatorStats } from './auth-gate.js'
export type { IssuedCertificates } from './certificates.js'
export { DsqlTokenVerifier, type DsqlTokenVerifierConfig } from './dsql-token-verifier.js'
export { type EmulatorCommandIo, runEmulatorCommand } from './emulator-command.js'
export type { LoginAttempt, LoginVerdict, ProxyRefusal, RejectReason } from './internal-types.js'
export { type Emulator, type EmulatorOptions, EmulatorOptionsError, startEmulator } from './start-emulator.js'
export {
  type EmulatorCredential,
  type EmulatorPolicyStatement,
  type TokenVerification,
  TokenVerifier,
  type TokenVerifierConfig,
  type VerifyOptions,
} from './token-verifier.js'
