export type {
  BadConfigCase,
  CountingEndpoint,
  DistSmoke,
  RetryCases,
  RetryEntryPoint,
} from './adapter-cases.js'
export { runBadConfigCases, runDistSmoke, runRetryCases } from './adapter-cases.js'
export { APP_USER, DENIED_USER, runConformance } from './conformance-suite.js'
export type {
  ConformanceCase,
  ConformanceHarness,
  ConnectionHandle,
  ConnectionSettings,
  Engine,
  OpenOptions,
  PoolHandle,
  Row,
} from './conformance-types.js'
export { howToStart, selectedEngines, TEST_URLS } from './engine-env.js'
export type { HangupServer } from './hangup-server.js'
export { startHangupServer } from './hangup-server.js'
export type { RawDatabase } from './raw-database.js'
export { openRaw, RAW_USER } from './raw-database.js'
export type { ReliabilityRow } from './reliability-report.js'
export {
  FAILOVER_RECOVERY_GOAL_MS,
  RELIABILITY_RESULTS_DIR,
  renderReliabilityTable,
} from './reliability-report.js'
export { runReliability } from './reliability-suite.js'
