export { createSignalRHub, type SignalRHub, type SignalRHubLimits, type SignalRHubOptions } from './createSignalRHub.ts';
