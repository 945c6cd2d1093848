/** Public API for embedding the gateway in another Node process. */
export { createGateway, Gateway, type GatewayDeps, type HealthReport } from './gateway.js';
export { loadConfig, defaultConfig, describeConfig, ConfigError, type Config } from './config/index.js';
export { createLogger, silentLogger, type Logger } from './log.js';
export { buildDependencies } from './bootstrap.js';
export type { Broker, BrokerStatus, Publication, PublishRequest, StreamPosition, HistoryRead } from './broker/broker.js';
export { MemoryBroker } from './broker/memory.js';
export type { PartialApplicationsStore, StoreStatus } from './data/store.js';
export type {
  ClientMessage, ClientType, IngressMessage, JsonObject, Outbound, ServerMessage, ServerType,
} from '../protocol/types.js';
export { ERROR_CODES, type ErrorCode } from '../protocol/constants.js';
export { ERRORS, errorText } from '../protocol/errors.js';
export type { Identities, IdentityOutcome, IdentityRequest, IdentityResolver } from './identity/resolver.js';
export { MemoryIdentityResolver } from './identity/memory.js';
