import { type ProcessErrorArgs, type ServiceBusReceivedMessage, parseServiceBusConnectionString } from '@azure/service-bus';
import type { Logger } from 'pino';
import { UnavailableError, ValidationError } from '../../errors.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { IngestStatus } from '../ingestStatus.ts';
import { decodeMessageBody } from './decodeMessageBody.ts';
import { ingestInputFor, messageIdText } from './ingestInputFor.ts';
import { type OpenedReceiver, openServiceBusReceiver } from './openServiceBusReceiver.ts';
import { createRetryDelay } from './retryDelay.ts';
import { type Settlement, settlementForInvalid, settlementForResults } from './settlement.ts';
import { serviceBusMetrics } from './serviceBusMetrics.ts';
import { type InFlightMessage, settleMessage } from './settleMessage.ts';

export interface ServiceBusConsumerOptions {
  /** `Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…`. Never logged; only its namespace host is. */
  readonly connectionString: string;
  /** The topic workers publish status messages to. */
  readonly topic: string;
  /** This deployment's subscription on it; also stored as `ingested_by` on every event. */
  readonly subscription: string;
  /** The ingest function HTTP uses too. */
  readonly ingest: IngestStatus;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Messages processed at once (the SDK's `maxConcurrentCalls`). Defaults to 16. */
  readonly maxConcurrentCalls?: number;
  /** How long `stop` lets in-flight messages finish before abandoning them. Defaults to 10 s. */
  readonly stopGraceMs?: number;
  /**
   * Pause before abandoning a message after a transient failure, doubled on each redelivery of
   * it, up to `maxRetryDelayMs` (see `createRetryDelay`). Defaults to 1 s.
   */
  readonly retryDelayMs?: number;
  /** Longest such pause. Defaults to 30 s. */
  readonly maxRetryDelayMs?: number;
  /**
   * How long a message is held while the store is unavailable, retried in place with the
   * same pauses, before it is abandoned after all. Defaults to 25 min, inside the receiver's
   * 30 min of automatic lock renewal (`openServiceBusReceiver`).
   */
  readonly maxHoldMs?: number;
  /** Opens the receiver. Defaults to a peek-lock receiver from `connectionString`; tests pass a stand-in. */
  readonly openReceiver?: () => OpenedReceiver;
}

export interface ServiceBusConsumer {
  /** Opens the receiver and starts receiving. Only the first call does anything. */
  start(): void;
  /**
   * Graceful stop: receives nothing new (a message delivered meanwhile is abandoned unread),
   * lets in-flight messages finish and settle for up to `stopGraceMs`, abandons those still
   * running (their late results are not settled again; redelivery finds their appends), then
   * closes the receiver. Idempotent.
   */
  stop(): Promise<void>;
  /** Messages being processed now. */
  readonly inFlight: number;
  /**
   * Resolves with the reason when the consumer gave up for good because the subscription
   * cannot be read this way (it requires sessions); the process should exit. Never resolves
   * otherwise.
   */
  readonly failed: Promise<Error>;
}

/**
 * The Azure Service Bus ingest source (contract §3): a peek-lock receiver on the status
 * topic's subscription that hands every message to the same ingest function as
 * `POST /ingest/status`, and settles it only once the outcome is known: complete once the
 * append is durable, dead-letter what can never succeed, abandon on a transient failure.
 * Concurrency is bounded by `maxConcurrentCalls`: the SDK delivers no further message until a
 * `processMessage` call returns, and each call returns only after its settlement.
 */
export function createServiceBusConsumer(options: ServiceBusConsumerOptions): ServiceBusConsumer {
  const { topic, subscription, ingest } = options;
  const maxConcurrentCalls = options.maxConcurrentCalls ?? 16;
  const stopGraceMs = options.stopGraceMs ?? 10_000;
  const logger = options.logger.child({ component: 'servicebus', namespace: namespaceOf(options.connectionString), topic, subscription });
  const metrics = serviceBusMetrics(options.metrics.registry);
  const retryDelay = createRetryDelay(options.retryDelayMs ?? 1_000, options.maxRetryDelayMs ?? 30_000);
  const maxHoldMs = options.maxHoldMs ?? 25 * 60_000;
  const inFlight = new Set<InFlightMessage>();
  const idleWaiters = new Set<() => void>();
  // Aborting cancels the SDK's connection retry cycle, which `close()` alone waits out.
  const abort = new AbortController();
  let opened: OpenedReceiver | undefined;
  let handle: { close(): Promise<void> } | undefined;
  let stopping = false;
  let stopped: Promise<void> | undefined;
  let gaveUp = false;
  let giveUp: (reason: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (giveUp = resolve));

  const settle = (entry: InFlightMessage, settlement: Settlement) =>
    settleMessage(opened!.receiver, entry, settlement, { logger, metrics });

  async function settlementFor(entry: InFlightMessage): Promise<Settlement> {
    const decoded = decodeMessageBody(entry.message.body);
    if (!decoded.ok) return { kind: 'deadLetter', reason: decoded.reason, description: decoded.description };
    const { body, context } = ingestInputFor(entry.message, decoded.value, subscription);
    try {
      return settlementForResults(await ingest(body, context));
    } catch (error) {
      if (error instanceof ValidationError) return settlementForInvalid(error.errors, isBatch(decoded.value));
      if (error instanceof UnavailableError) return { kind: 'abandon', reason: 'store_unavailable' };
      logger.error({ err: error, message_id: entry.messageKey }, 'unexpected error while ingesting a Service Bus message');
      return { kind: 'abandon', reason: 'unexpected_error' };
    }
  }

  /**
   * While the store is unavailable the message is held, not abandoned: every abandon is a
   * delivery, and Service Bus dead-letters a message at its `maxDeliveryCount`-th (10 by
   * default; with pauses of 1 s doubling to 30 s, an outage of about three minutes). Held, it
   * keeps its lock (the SDK renews it) and its concurrency slot, so once every slot waits on
   * the store nothing more is delivered: receiving pauses for the outage. It is retried in
   * place, with the same pauses, until the store answers, the consumer stops, or `maxHoldMs`.
   */
  async function settlementWhileStoreIsDown(entry: InFlightMessage, first: Settlement): Promise<Settlement> {
    let settlement = first;
    const heldSince = Date.now();
    for (let attempt = 1; isStoreDown(settlement) && !stopping && Date.now() - heldSince < maxHoldMs; attempt++) {
      const delayMs = retryDelay.delayFor(attempt);
      if (attempt === 1) {
        logger.warn({ message_id: entry.messageKey, delay_ms: delayMs }, 'the event store is unavailable; holding the message and retrying it in place');
      }
      metrics.held.inc();
      try {
        await retryDelay.wait(delayMs);
      } finally {
        metrics.held.dec();
      }
      if (stopping) return { kind: 'abandon', reason: 'stopping' };
      settlement = await settlementFor(entry);
    }
    return settlement;
  }

  async function processMessage(message: ServiceBusReceivedMessage): Promise<void> {
    const entry: InFlightMessage = { message, messageKey: messageIdText(message.messageId), settled: false };
    inFlight.add(entry);
    metrics.inFlight.set(inFlight.size);
    try {
      const settlement: Settlement = stopping
        ? { kind: 'abandon', reason: 'stopping' }
        : await settlementWhileStoreIsDown(entry, await settlementFor(entry));
      if (settlement.kind === 'abandon' && settlement.reason !== 'stopping' && !stopping) {
        // The SDK reports the AMQP `delivery-count`, the deliveries *before* this one (0 first).
        const delayMs = retryDelay.delayFor((message.deliveryCount ?? 0) + 1);
        logger.warn({ message_id: entry.messageKey, delivery_count: message.deliveryCount, delay_ms: delayMs, reason: settlement.reason }, 'transient failure; abandoning the message after a pause');
        await retryDelay.wait(delayMs);
      }
      await settle(entry, settlement);
    } finally {
      inFlight.delete(entry);
      metrics.inFlight.set(inFlight.size);
      if (inFlight.size === 0) for (const waiter of idleWaiters) waiter();
    }
  }

  async function processError({ error, errorSource }: ProcessErrorArgs): Promise<void> {
    if (stopping && error.name === 'AbortError') return;
    if (requiresSessions(error)) {
      if (gaveUp) return;
      gaveUp = true;
      // The SDK would retry the refused link for ever; nothing will change until the
      // subscription is recreated without sessions, so stop and say so once.
      const reason = new Error(
        `Service Bus subscription ${topic}/${subscription} requires sessions; statuscast receives without sessions: use a subscription created with requiresSession=false`,
      );
      logger.error({ source: errorSource }, reason.message);
      void (stopped ??= stop());
      giveUp(reason);
      return;
    }
    metrics.receiverErrors.inc({ source: errorSource });
    // Only name, code and message: an SDK error object carries connection details.
    const code = (error as { code?: unknown }).code;
    logger.warn({ err: { name: error.name, code, message: error.message }, source: errorSource }, 'Service Bus receiver error; the SDK retries');
  }

  function idle(timeoutMs: number): Promise<boolean> {
    if (inFlight.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (drained: boolean) => {
        clearTimeout(timer);
        idleWaiters.delete(onIdle);
        resolve(drained);
      };
      const onIdle = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      idleWaiters.add(onIdle);
    });
  }

  async function stop(): Promise<void> {
    stopping = true;
    // Messages pausing after a transient failure are abandoned now rather than held to the grace.
    retryDelay.interrupt();
    if (!opened) return;
    const closing = handle?.close();
    if (!(await idle(stopGraceMs))) {
      const left = [...inFlight].filter((entry) => !entry.settled);
      logger.warn({ messages: left.length, grace_ms: stopGraceMs }, 'in-flight Service Bus messages did not finish in time; abandoning them');
      await Promise.all(left.map((entry) => settle(entry, { kind: 'abandon', reason: 'stopping' })));
    }
    abort.abort();
    await closing?.catch(() => undefined);
    await opened.close().catch((error: unknown) => logger.warn({ err: { message: (error as Error).message } }, 'closing the Service Bus receiver failed'));
    logger.info('Service Bus consumer stopped');
  }

  return {
    start() {
      if (opened || stopping) return;
      opened = (options.openReceiver ?? (() => openServiceBusReceiver(options.connectionString, topic, subscription)))();
      handle = opened.receiver.subscribe(
        { processMessage, processError },
        { maxConcurrentCalls, autoCompleteMessages: false, abortSignal: abort.signal },
      );
      logger.info({ max_concurrent_calls: maxConcurrentCalls }, 'Service Bus consumer started');
    },
    stop: () => (stopped ??= stop()),
    get inFlight() {
      return inFlight.size;
    },
    failed,
  };
}

/** The namespace host, for logs; never the key. */
function namespaceOf(connectionString: string): string | undefined {
  try {
    return parseServiceBusConnectionString(connectionString).fullyQualifiedNamespace;
  } catch {
    return undefined;
  }
}

/**
 * The service refuses a non-session receive link on a session-enabled entity with
 * `amqp:not-allowed`, which reaches `processError` as a `ServiceBusError` whose message starts
 * `InvalidOperationError: It is not possible for an entity that requires sessions …`
 * (core-amqp `ConditionErrorNameMapper`; service-bus 7.9 keeps the name for `GeneralError`s).
 */
function requiresSessions(error: Error): boolean {
  return /entity that requires sessions/i.test(error.message);
}

function isStoreDown(settlement: Settlement): boolean {
  return settlement.kind === 'abandon' && settlement.reason === 'store_unavailable';
}

function isBatch(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'messages' in value;
}
