import type { Logger } from 'pino';
import { jobStreamName } from '../../../../src/domain/job/events.ts';
import type { ServiceBusConsumerOptions } from '../../../../src/ingest/serviceBus/index.ts';
import { type EventStore, type RecordedEvent, collect } from '../../../../src/store/eventStore.ts';
import {
  type ServiceBusStandIn,
  type SettlementRecord,
  type StandInReceiver,
  createServiceBusStandIn,
} from '../../../support/serviceBusStandIn/index.ts';
import { type TestServer, eventually, startTestServer } from '../../../support/testServer.ts';

export interface ServiceBusTestServer {
  readonly t: TestServer;
  readonly standIn: ServiceBusStandIn;
  /** The stand-in receiver the server's consumer opened. */
  readonly receiver: StandInReceiver;
  close(): Promise<void>;
}

/**
 * The real server (real store, real ingest path) with `SERVICEBUS_CONNECTION_STRING` set and
 * its consumer reading from a stand-in receiver on `standIn`.
 */
export async function startServiceBusTestServer(
  options: {
    standIn?: ServiceBusStandIn;
    env?: Record<string, string>;
    dataDir?: string;
    logger?: Logger;
    store?: EventStore;
    consumer?: Partial<Pick<ServiceBusConsumerOptions, 'maxConcurrentCalls' | 'stopGraceMs' | 'retryDelayMs' | 'maxRetryDelayMs' | 'maxHoldMs'>>;
  } = {},
): Promise<ServiceBusTestServer> {
  const standIn = options.standIn ?? createServiceBusStandIn();
  let receiver: StandInReceiver | undefined;
  const t = await startTestServer(
    { SERVICEBUS_CONNECTION_STRING: standIn.connectionString, ...options.env },
    {
      ...(options.dataDir && { dataDir: options.dataDir }),
      ...(options.logger && { logger: options.logger }),
      ...(options.store && { store: options.store }),
      serviceBus: {
        retryDelayMs: 5,
        maxRetryDelayMs: 20,
        ...options.consumer,
        openReceiver: () => {
          receiver = standIn.createReceiver();
          const opened = receiver;
          return { receiver: opened, close: () => opened.close() };
        },
      },
    },
  );
  if (!receiver) throw new Error('the server did not start its Service Bus consumer');
  return { t, standIn, receiver, close: () => t.close() };
}

/** Waits for the first settlement the "broker" accepted for the message with this sequence number. */
export async function settled(standIn: ServiceBusStandIn, sequenceNumber: number, timeoutMs = 10_000): Promise<SettlementRecord> {
  return (await eventually(
    () => standIn.settlements.find((s) => s.sequenceNumber === sequenceNumber && s.ok && s.kind !== 'abandon'),
    timeoutMs,
    `message ${sequenceNumber} to be completed or dead-lettered`,
  ))!;
}

/** Every settlement call for the message with this sequence number, in order. */
export function settlementsOf(standIn: ServiceBusStandIn, sequenceNumber: number): SettlementRecord[] {
  return standIn.settlements.filter((s) => s.sequenceNumber === sequenceNumber);
}

/** The events of a job's stream. */
export function jobEvents(store: EventStore, jobId: string): Promise<RecordedEvent[]> {
  return collect(store.readStream(jobStreamName(jobId)));
}

/** A metric's value from the server's registry (0 when absent). */
export async function metricValue(t: TestServer, name: string, labels: Record<string, string>): Promise<number> {
  const metric = t.server.metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const match = values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return match?.value ?? 0;
}

/** A store whose appends wait at a gate the test opens; counts appends running at once. */
export function gatedStore(store: EventStore) {
  let gate: Promise<void> | undefined;
  let open: () => void = () => undefined;
  let waiting = 0;
  let maxWaiting = 0;
  const original = store.appendToStreams.bind(store);
  store.appendToStreams = async (appends) => {
    if (gate) {
      waiting += 1;
      maxWaiting = Math.max(maxWaiting, waiting);
      try {
        await gate;
      } finally {
        waiting -= 1;
      }
    }
    return original(appends);
  };
  return {
    close() {
      gate = new Promise((resolve) => (open = resolve));
    },
    open() {
      gate = undefined;
      open();
    },
    get waiting() {
      return waiting;
    },
    get maxWaiting() {
      return maxWaiting;
    },
  };
}
