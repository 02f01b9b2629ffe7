/**
 * Azure Service Bus ingest: status messages from a topic subscription go through the same
 * ingest function as `POST /ingest/status`. See docs/scaling-out.md.
 */
export {
  type ServiceBusConsumer,
  type ServiceBusConsumerOptions,
  createServiceBusConsumer,
} from './createServiceBusConsumer.ts';
export type { OpenedReceiver } from './openServiceBusReceiver.ts';
export type { AbandonReason, DeadLetterReason, Settlement } from './settlement.ts';
