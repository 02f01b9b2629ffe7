import { Counter, type Registry } from 'prom-client';
import type { Metrics } from '../../observability/metrics.ts';
import type { HubServerMetrics, TransportKind } from '@statuscast/signalr-server';

/** Transport label values, next to the SSE transport's `sse` in the shared metrics. */
const TRANSPORT_LABEL: Record<TransportKind, string> = {
  WebSockets: 'signalr-websockets',
  ServerSentEvents: 'signalr-sse',
  LongPolling: 'signalr-longpolling',
};

const INVOCATIONS = 'statuscast_signalr_invocations_total';

export interface SignalRMetrics extends HubServerMetrics {
  /**
   * Append→send latency of a live event written to a connection. Observed once per event and
   * transport, when the event's fan-out (one synchronous pass over its subscribers) is done:
   * the time the last of its recipients got it, not one observation per recipient.
   */
  observeLatency(transport: TransportKind, event: { readonly recordedAtMs: number }): void;
}

/** Messages sent since the last scrape, by target: plain numbers, handed to prom-client in bulk. */
type PendingSent = Map<string, { count: number }>;

/**
 * Maps the hub server's observations onto the service's shared metrics (connections,
 * messages sent, slow-consumer closes, append→send latency), and adds
 * `statuscast_signalr_invocations_total{method,outcome}` to the same registry.
 */
export function signalrMetrics(metrics: Metrics): SignalRMetrics {
  const invocations = invocationCounter(metrics.registry);
  // `messageSent` runs once per delivery and message: a plain increment here, flushed to the
  // counter when it is read (prom-client's `inc` hashes the label values on every call).
  const pending = new Map<TransportKind, PendingSent>();
  const slot = (transport: TransportKind, target: string) => {
    let byTarget = pending.get(transport);
    if (byTarget === undefined) pending.set(transport, (byTarget = new Map()));
    let entry = byTarget.get(target);
    if (entry === undefined) byTarget.set(target, (entry = { count: 0 }));
    return entry;
  };
  metrics.onCollect(() => {
    for (const [transport, byTarget] of pending) {
      for (const [target, entry] of byTarget) {
        if (entry.count === 0) continue;
        metrics.messagesSent.labels(TRANSPORT_LABEL[transport], target).inc(entry.count);
        entry.count = 0;
      }
    }
  });
  // The last event whose latency is due, per transport: every recipient of an event gets it
  // in one synchronous pass, so the observation waits for the microtask after that pass.
  const observed = new Map<TransportKind, object>();
  const latency = new Map<TransportKind, ReturnType<Metrics['appendToSend']['labels']>>();
  const latencyHistogram = (transport: TransportKind) => {
    let child = latency.get(transport);
    if (child === undefined) latency.set(transport, (child = metrics.appendToSend.labels(TRANSPORT_LABEL[transport])));
    return child;
  };
  return {
    connectionOpened: (transport) => metrics.connections.labels(TRANSPORT_LABEL[transport]).inc(),
    connectionClosed: (transport) => metrics.connections.labels(TRANSPORT_LABEL[transport]).dec(),
    messageSent: (transport, target) => {
      slot(transport, target).count++;
    },
    sendBufferDrop: (transport) => metrics.slowConsumerCloses.labels(TRANSPORT_LABEL[transport]).inc(),
    invocation: (method, outcome) => invocations.labels(method, outcome).inc(),
    observeLatency: (transport, event) => {
      if (observed.get(transport) === event) return;
      observed.set(transport, event);
      queueMicrotask(() => {
        if (observed.get(transport) === event) observed.delete(transport);
        latencyHistogram(transport).observe(Math.max(0, Date.now() - event.recordedAtMs) / 1000);
      });
    },
  };
}

/** One counter per registry, even when several hubs share it (tests restart hubs). */
function invocationCounter(registry: Registry): Counter<'method' | 'outcome'> {
  const existing = registry.getSingleMetric(INVOCATIONS);
  if (existing) return existing as Counter<'method' | 'outcome'>;
  return new Counter({
    name: INVOCATIONS,
    help: 'SignalR hub invocations by method and outcome',
    labelNames: ['method', 'outcome'],
    registers: [registry],
  });
}
