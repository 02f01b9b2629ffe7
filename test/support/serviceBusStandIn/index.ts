import { StandInEntity, type SettlementRecord, type StoredMessage } from './standInEntity.ts';
import { StandInReceiver } from './standInReceiver.ts';

export { StandInReceiver };
export type { SettlementRecord, StoredMessage };

/** What a test sends; `body` is sent as a JSON data section unless `raw` says otherwise. */
export interface OutgoingMessage {
  /** A JSON value, encoded as the SDK's sender does (UTF-8 JSON bytes). */
  readonly body?: unknown;
  /** Exactly this arrives as the received `body` (bytes that are not JSON, a string, an AMQP value). */
  readonly raw?: unknown;
  readonly messageId?: string;
  readonly applicationProperties?: Record<string, string | number | boolean>;
}

/**
 * A STAND-IN for one Azure Service Bus topic subscription and its receivers, for tests only:
 * in-memory, one process, no AMQP. It models what statuscast's consumer relies on —
 * peek-lock delivery, settlement (complete, abandon, dead-letter with reason and
 * description), redelivery with a growing `deliveryCount` (0 on the first delivery, as the SDK reports it), dead-lettering past
 * `maxDeliveryCount`, lock expiry — and records every settlement call. It is not Service Bus:
 * no sessions (a session-enabled subscription only refuses the receiver, as the service
 * does), no lock timers (locks expire only when a test says so), no TTL, no partitions.
 */
export interface ServiceBusStandIn {
  /** `Endpoint=sb://…` with a key that must never appear in logs. */
  readonly connectionString: string;
  /** Enqueues a message; returns its sequence number. */
  send(message: OutgoingMessage): number;
  /** A receiver on the subscription (competing consumers share the messages). */
  createReceiver(identifier?: string): StandInReceiver;
  /** Every settlement call, in order. */
  readonly settlements: readonly SettlementRecord[];
  /** Every message ever sent, with its current state. */
  readonly messages: readonly StoredMessage[];
  /** Messages in the dead-letter sub-queue. */
  deadLettered(): StoredMessage[];
  /** Messages not yet completed or dead-lettered. */
  pending(): StoredMessage[];
  /** Lock expiry for every locked message; they are delivered again. */
  expireLocks(): number;
}

export const STAND_IN_SECRET = 'stand-in-SharedAccessKey-never-logged';

export function createServiceBusStandIn(
  options: { maxDeliveryCount?: number; topic?: string; subscription?: string; requiresSession?: boolean } = {},
): ServiceBusStandIn {
  const entity = new StandInEntity(options.maxDeliveryCount ?? 10, options.requiresSession ?? false);
  const entityPath = `${options.topic ?? 'status'}/Subscriptions/${options.subscription ?? 'realtime'}`;
  let receivers = 0;
  return {
    connectionString: `Endpoint=sb://stand-in.servicebus.example/;SharedAccessKeyName=listen;SharedAccessKey=${STAND_IN_SECRET}`,
    send(message) {
      const body = 'raw' in message ? message.raw : Buffer.from(JSON.stringify(message.body));
      return entity.add({ body, messageId: message.messageId, applicationProperties: message.applicationProperties ?? {} }).sequenceNumber;
    },
    createReceiver(identifier) {
      receivers += 1;
      return new StandInReceiver(entity, identifier ?? `stand-in-receiver-${receivers}`, entityPath);
    },
    settlements: entity.settlements,
    messages: entity.messages,
    deadLettered: () => entity.messages.filter((m) => m.state === 'deadLettered'),
    pending: () => entity.messages.filter((m) => m.state === 'available' || m.state === 'locked'),
    expireLocks: () => entity.expireLocks(),
  };
}
