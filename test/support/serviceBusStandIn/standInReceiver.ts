import {
  type MessageHandlers,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
  ServiceBusError,
  type SubscribeOptions,
} from '@azure/service-bus';
import { type SettlementRecord, type StandInEntity, type StoredMessage, receivedMessage } from './standInEntity.ts';

interface Delivery {
  readonly stored: StoredMessage;
  readonly token: string;
}

/**
 * A STAND-IN for `@azure/service-bus`'s `ServiceBusReceiver` (peek-lock, non-session), for
 * tests: `subscribe` delivers as the SDK's streaming receiver does — at most
 * `maxConcurrentCalls` `processMessage` calls at once, a new message only when one returns,
 * auto-complete when `autoCompleteMessages` is not false, abandon when the handler throws —
 * and the settlement methods act on the stand-in's entity as the broker would. Methods
 * statuscast does not use throw.
 */
export class StandInReceiver implements ServiceBusReceiver {
  readonly entityPath: string;
  readonly receiveMode = 'peekLock' as const;
  /** Every `subscribe` call's options, in order. */
  readonly subscribeCalls: SubscribeOptions[] = [];
  /** Most `processMessage` calls seen running at once. */
  maxObservedConcurrentCalls = 0;
  /** Receive links refused so far (session-enabled entity). */
  linkRefusals = 0;
  private active = 0;
  private closed = false;
  private crashed = false;
  private frozen: (() => void)[] | undefined;
  private readonly deliveries = new WeakMap<ServiceBusReceivedMessage, Delivery>();

  constructor(
    private readonly entity: StandInEntity,
    readonly identifier: string,
    entityPath: string,
  ) {
    this.entityPath = entityPath;
  }

  get isClosed(): boolean {
    return this.closed || this.crashed;
  }

  /** `processMessage` calls running now. */
  get concurrentCalls(): number {
    return this.active;
  }

  subscribe(handlers: MessageHandlers, options: SubscribeOptions = {}): { close(): Promise<void> } {
    this.subscribeCalls.push(options);
    const max = options.maxConcurrentCalls && options.maxConcurrentCalls > 0 ? options.maxConcurrentCalls : 1;
    const autoComplete = options.autoCompleteMessages ?? true;
    let open = true;
    const pump = () => {
      while (open && !this.isClosed && !options.abortSignal?.aborted && this.active < max) {
        const next = this.entity.lockNext(this.identifier);
        if (!next) return;
        void this.deliver(next, handlers, autoComplete).finally(pump);
      }
    };
    if (this.entity.requiresSession) return this.refuseLink(handlers, () => open && !this.isClosed && !options.abortSignal?.aborted, () => (open = false));
    const unlisten = this.entity.onAvailable(pump);
    options.abortSignal?.addEventListener('abort', () => (open = false));
    setImmediate(pump);
    return {
      close: async () => {
        open = false;
        unlisten();
      },
    };
  }

  /**
   * What a non-session receiver meets on a session-enabled entity: the service refuses the
   * receive link with `amqp:not-allowed` ("It is not possible for an entity that requires
   * sessions to create a non-sessionful message receiver", Azure/azure-service-bus#326),
   * which core-amqp names `InvalidOperationError` (`ConditionErrorNameMapper`) and
   * `ServiceBusError` turns into code `GeneralError` with that name before the message
   * (service-bus 7.9 `normalizeMessagingCode`). The SDK's streaming receiver retries the link
   * for ever, reporting each failure to `processError` with source `receive`.
   */
  private refuseLink(handlers: MessageHandlers, active: () => boolean, stop: () => void): { close(): Promise<void> } {
    const error = new ServiceBusError(
      'InvalidOperationError: It is not possible for an entity that requires sessions to create a non-sessionful message receiver. TrackingId:stand-in, SystemTracker:stand-in:Topic:status|realtime',
      'GeneralError',
    );
    const timer = setInterval(() => {
      if (!active()) {
        clearInterval(timer);
        return;
      }
      this.linkRefusals += 1;
      void handlers.processError({ error, errorSource: 'receive', entityPath: this.entityPath, fullyQualifiedNamespace: 'stand-in', identifier: this.identifier });
    }, 10);
    return {
      close: async () => {
        stop();
        clearInterval(timer);
      },
    };
  }

  private async deliver(delivery: Delivery, handlers: MessageHandlers, autoComplete: boolean): Promise<void> {
    const message = receivedMessage(delivery.stored, delivery.token);
    this.deliveries.set(message, delivery);
    this.active += 1;
    this.maxObservedConcurrentCalls = Math.max(this.maxObservedConcurrentCalls, this.active);
    try {
      await handlers.processMessage(message);
      if (autoComplete && this.holdsLock(delivery)) await this.completeMessage(message).catch(() => undefined);
    } catch (error) {
      await handlers.processError({
        error: error as Error,
        errorSource: 'processMessageCallback',
        entityPath: this.entityPath,
        fullyQualifiedNamespace: 'stand-in',
        identifier: this.identifier,
      });
      if (this.holdsLock(delivery)) await this.abandonMessage(message).catch(() => undefined);
    } finally {
      this.active -= 1;
    }
  }

  completeMessage(message: ServiceBusReceivedMessage): Promise<void> {
    return this.settle('complete', message, (stored) => {
      stored.state = 'completed';
      stored.lock = undefined;
    });
  }

  abandonMessage(message: ServiceBusReceivedMessage): Promise<void> {
    return this.settle('abandon', message, (stored) => this.entity.release(stored));
  }

  deadLetterMessage(
    message: ServiceBusReceivedMessage,
    options?: { deadLetterReason: string; deadLetterErrorDescription: string },
  ): Promise<void> {
    return this.settle(
      'deadLetter',
      message,
      (stored) => {
        stored.state = 'deadLettered';
        stored.lock = undefined;
        stored.deadLetterReason = options?.deadLetterReason;
        stored.deadLetterErrorDescription = options?.deadLetterErrorDescription;
      },
      options,
    );
  }

  /** From now on settlement calls hang, as when the process dies before its settlement reaches the broker. */
  freezeSettlements(): void {
    this.frozen ??= [];
  }

  /**
   * The receiver's process dies: frozen settlement calls fail with `MessageLockLost`, nothing
   * more is delivered, and its locks expire (as once the lock duration has passed), so the
   * messages are delivered again, to another receiver.
   */
  crash(): void {
    this.crashed = true;
    for (const fail of this.frozen ?? []) fail();
    this.frozen = undefined;
    this.entity.expireLocks(this.identifier);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async settle(
    kind: SettlementRecord['kind'],
    message: ServiceBusReceivedMessage,
    apply: (stored: StoredMessage) => void,
    deadLetter?: { deadLetterReason: string; deadLetterErrorDescription: string },
  ): Promise<void> {
    const delivery = this.deliveries.get(message);
    if (!delivery) throw new Error('stand-in: not a message this receiver delivered');
    if (this.frozen) await new Promise<void>((resolve) => this.frozen!.push(resolve));
    const { stored } = delivery;
    const record = {
      kind,
      messageId: stored.messageId,
      sequenceNumber: stored.sequenceNumber,
      deliveryCount: stored.deliveryCount,
      receiverId: this.identifier,
      ...(deadLetter && deadLetter),
    };
    let failure: Error | undefined;
    if (this.isClosed) failure = new ServiceBusError('The receiver is closed or its link was lost.', 'MessageLockLost');
    else if (stored.state === 'completed' || stored.state === 'deadLettered') failure = new Error('The message has already been settled.');
    else if (!this.holdsLock(delivery)) failure = new ServiceBusError('The lock on the message was lost.', 'MessageLockLost');
    this.entity.settlements.push({ ...record, ok: !failure, ...(failure && { error: failure.message }) });
    if (failure) throw failure;
    apply(stored);
  }

  private holdsLock({ stored, token }: Delivery): boolean {
    return stored.state === 'locked' && stored.lock?.token === token;
  }

  getMessageIterator(): never {
    throw new Error('stand-in: getMessageIterator is not implemented');
  }
  receiveMessages(): never {
    throw new Error('stand-in: receiveMessages is not implemented');
  }
  receiveDeferredMessages(): never {
    throw new Error('stand-in: receiveDeferredMessages is not implemented');
  }
  peekMessages(): never {
    throw new Error('stand-in: peekMessages is not implemented');
  }
  deferMessage(): never {
    throw new Error('stand-in: deferMessage is not implemented');
  }
  renewMessageLock(): never {
    throw new Error('stand-in: renewMessageLock is not implemented');
  }
}
