import { ServiceBusClient, type ServiceBusReceiver } from '@azure/service-bus';

/** A receiver and how to release everything opened for it. */
export interface OpenedReceiver {
  readonly receiver: ServiceBusReceiver;
  /** Closes the receiver and whatever connection it needs. */
  close(): Promise<void>;
}

/**
 * A peek-lock receiver on `topic`/`subscription` from a connection string. Bodies stay bytes
 * (`skipParsingBodyAsJson`) so that the consumer, not the SDK, decides what is JSON. The SDK
 * renews message locks while a message is processed for up to 30 minutes (its default is 5):
 * the consumer holds messages while the event store is down (up to 25 minutes) rather than
 * spend their deliveries.
 */
export function openServiceBusReceiver(connectionString: string, topic: string, subscription: string): OpenedReceiver {
  const client = new ServiceBusClient(connectionString);
  const receiver = client.createReceiver(topic, subscription, {
    receiveMode: 'peekLock',
    skipParsingBodyAsJson: true,
    maxAutoLockRenewalDurationInMs: 30 * 60_000,
  });
  return {
    receiver,
    async close() {
      try {
        await receiver.close();
      } finally {
        await client.close();
      }
    },
  };
}
