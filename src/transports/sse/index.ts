export { createSseTransport, type SseTransport, type SseTransportOptions } from './createSseTransport.ts';
