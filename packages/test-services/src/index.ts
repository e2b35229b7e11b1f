export type { RequireServiceOptions, ServiceKind } from './test-services.js'
export {
  redactUrl,
  requireService,
  START_COMMANDS,
  serviceUnavailableMessage,
  TEST_URLS,
  tcpProbe,
} from './test-services.js'
