import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The service's Prometheus metrics (contract §8), created once per server on its own
 * registry so that several servers can live in one process (tests, benchmarks).
 * Transports share `connections`, `messagesSent` and `appendToSend`, labelled by transport.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Open client connections by transport (`signalr-websockets`, `sse`, …). */
  readonly connections: Gauge<'transport'>;
  /** Messages written to clients, by transport and target (`timeline.event`, …). */
  readonly messagesSent: Counter<'transport' | 'target'>;
  /** Seconds from the store recording an event to a transport writing it to a client. */
  readonly appendToSend: Histogram<'transport'>;
  /** Clients closed because they could not keep up, by transport. */
  readonly slowConsumerCloses: Counter<'transport'>;
  /** Ingested status messages by outcome and source (`http`, `servicebus`). */
  readonly ingestMessages: Counter<'outcome' | 'source'>;
  /** Events the projection has not applied yet (bounded count). */
  readonly projectionLag: Gauge;
  /** Commit part of the projection checkpoint position. */
  readonly projectionCheckpoint: Gauge;
  /** Live-feed subscriptions currently open. */
  readonly liveSubscriptions: Gauge;
  /** Events held in memory for resuming clients (the live feed's tail cache). */
  readonly liveTailCacheEvents: Gauge;
  /** Audit chain breaks the service found while appending or serving history, by reason. */
  readonly auditVerifyFailures: Counter<'reason'>;
  /**
   * Runs `flush` whenever `messagesSent` or `appendToSend` is read (a scrape, `get()`), before
   * the values are read. Lets a transport count per delivery in plain numbers and hand them to
   * prom-client in bulk: a prom-client `inc`/`observe` hashes its labels on every call, which
   * cost more than the socket write itself at 5,000 deliveries per event.
   */
  onCollect(flush: () => void): void;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'statuscast_' });
  const registers = [registry];
  const flushes: (() => void)[] = [];
  const collect = () => {
    for (const flush of flushes) flush();
  };
  return {
    onCollect: (flush) => {
      flushes.push(flush);
    },
    registry,
    connections: new Gauge({
      name: 'statuscast_connections',
      help: 'Open client connections by transport',
      labelNames: ['transport'],
      registers,
    }),
    messagesSent: new Counter({
      name: 'statuscast_messages_sent_total',
      help: 'Messages written to clients by transport and target',
      labelNames: ['transport', 'target'],
      registers,
      collect,
    }),
    appendToSend: new Histogram({
      name: 'statuscast_append_to_send_seconds',
      help: 'Seconds from the store recording an event to a transport sending it',
      labelNames: ['transport'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
      collect,
    }),
    slowConsumerCloses: new Counter({
      name: 'statuscast_slow_consumer_closes_total',
      help: 'Client connections closed because their send buffer exceeded its bound',
      labelNames: ['transport'],
      registers,
    }),
    ingestMessages: new Counter({
      name: 'statuscast_ingest_messages_total',
      help: 'Ingested status messages by outcome and source',
      labelNames: ['outcome', 'source'],
      registers,
    }),
    projectionLag: new Gauge({
      name: 'statuscast_projection_lag_events',
      help: 'Events in the store not yet applied to the read models',
      registers,
    }),
    projectionCheckpoint: new Gauge({
      name: 'statuscast_projection_checkpoint',
      help: 'Commit position of the read-model checkpoint',
      registers,
    }),
    liveSubscriptions: new Gauge({
      name: 'statuscast_live_subscriptions',
      help: 'Open live-feed subscriptions (jobs and feeds)',
      registers,
    }),
    liveTailCacheEvents: new Gauge({
      name: 'statuscast_live_tail_cache_events',
      help: 'Events the live feed holds in memory for resuming clients',
      registers,
    }),
    auditVerifyFailures: new Counter({
      name: 'statuscast_audit_verify_failures_total',
      help: 'Audit chain breaks found by the service (appending after an altered event, serving history or an export), by reason',
      labelNames: ['reason'],
      registers,
    }),
  };
}
