import type { ServiceBusReceivedMessage } from '@azure/service-bus';

/** A message as the stand-in keeps it, across deliveries. */
export interface StoredMessage {
  readonly sequenceNumber: number;
  readonly messageId: string | undefined;
  readonly body: unknown;
  readonly applicationProperties: Readonly<Record<string, string | number | boolean>>;
  /**
   * Deliveries so far, as the broker counts them for `maxDeliveryCount` (1 during the first).
   * The received message reports one less: see `receivedMessage`.
   */
  deliveryCount: number;
  state: 'available' | 'locked' | 'completed' | 'deadLettered';
  /** The delivery holding the lock, while `state` is `locked`. */
  lock: { readonly token: string; readonly receiverId: string } | undefined;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
}

/** One settlement call, whether or not the "broker" accepted it. */
export interface SettlementRecord {
  readonly kind: 'complete' | 'abandon' | 'deadLetter';
  readonly messageId: string | undefined;
  readonly sequenceNumber: number;
  readonly deliveryCount: number;
  readonly receiverId: string;
  /** False when the call failed (lock lost, already settled, receiver gone). */
  readonly ok: boolean;
  readonly error?: string;
  readonly deadLetterReason?: string;
  readonly deadLetterErrorDescription?: string;
}

/**
 * The subscription's side of the stand-in: messages in sequence order, peek-lock locks,
 * redelivery with a growing delivery count, the dead-letter sub-queue and a log of every
 * settlement call. Receivers pull from it; it tells them when something became available.
 */
export class StandInEntity {
  readonly messages: StoredMessage[] = [];
  readonly settlements: SettlementRecord[] = [];
  private readonly listeners = new Set<() => void>();
  private nextSequence = 1;
  private nextLock = 1;

  constructor(
    readonly maxDeliveryCount: number,
    /** A session-enabled subscription: a non-session receiver's link is refused. */
    readonly requiresSession = false,
  ) {}

  add(message: Pick<StoredMessage, 'messageId' | 'body' | 'applicationProperties'>): StoredMessage {
    const stored: StoredMessage = { ...message, sequenceNumber: this.nextSequence++, deliveryCount: 0, state: 'available', lock: undefined };
    this.messages.push(stored);
    this.notify();
    return stored;
  }

  /** Locks the next available message for `receiverId`, or returns undefined. */
  lockNext(receiverId: string): { stored: StoredMessage; token: string } | undefined {
    const stored = this.messages.find((m) => m.state === 'available');
    if (!stored) return undefined;
    stored.deliveryCount += 1;
    const token = `lock-${this.nextLock++}`;
    stored.state = 'locked';
    stored.lock = { token, receiverId };
    return { stored, token };
  }

  /** Makes a locked message available again, or dead-letters it past `maxDeliveryCount`, as the broker does. */
  release(stored: StoredMessage): void {
    stored.lock = undefined;
    if (stored.deliveryCount >= this.maxDeliveryCount) {
      stored.state = 'deadLettered';
      stored.deadLetterReason = 'MaxDeliveryCountExceeded';
      stored.deadLetterErrorDescription = `Message could not be consumed after ${this.maxDeliveryCount} delivery attempts.`;
      return;
    }
    stored.state = 'available';
    this.notify();
  }

  /** Lock expiry: every message locked (by `receiverId`, or by anyone) comes back. */
  expireLocks(receiverId?: string): number {
    const expired = this.messages.filter((m) => m.state === 'locked' && (receiverId === undefined || m.lock?.receiverId === receiverId));
    for (const stored of expired) this.release(stored);
    return expired.length;
  }

  onAvailable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of this.listeners) setImmediate(listener);
  }
}

/** Builds the received-message object a receiver hands to `processMessage` for one delivery. */
export function receivedMessage(stored: StoredMessage, token: string): ServiceBusReceivedMessage {
  return {
    body: stored.body,
    messageId: stored.messageId,
    applicationProperties: { ...stored.applicationProperties },
    // `@azure/service-bus` 7.9 reports the AMQP header's `delivery-count` as is
    // (`deliveryCount: rheaMessage.delivery_count` in its message conversion): the number of
    // *earlier* deliveries, 0 on the first.
    deliveryCount: stored.deliveryCount - 1,
    lockToken: token,
    enqueuedSequenceNumber: stored.sequenceNumber,
    state: 'active',
    // The raw AMQP view is not used by statuscast; a minimal one keeps the type honest.
    _rawAmqpMessage: { body: stored.body, bodyType: 'data' },
  } as ServiceBusReceivedMessage;
}
