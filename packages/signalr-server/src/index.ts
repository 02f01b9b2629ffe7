export { createHubServer, type HubServer } from './createHubServer.ts';
export {
  HubError,
  type CloseOptions,
  type HubCall,
  type HubConnectionContext,
  type HubDefinition,
  type HubIdentity,
  type HubMethod,
  type OutgoingFrame,
  type TransportKind,
} from './hubDefinition.ts';
export { invocationFrame } from './hubMessages.ts';
export { DEFAULT_LIMITS, type HubAuthenticate, type HubServerLimits, type HubServerOptions } from './hubServerOptions.ts';
export type { HubLogger, HubLogMethod } from './hubLogger.ts';
export type { HubServerMetrics, InvocationOutcome } from './hubServerMetrics.ts';
