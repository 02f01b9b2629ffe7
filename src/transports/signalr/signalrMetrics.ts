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
  /** Observes append→send latency for a live event written to a connection. */
  observeLatency(transport: TransportKind, recordedAtMs: number): void;
}

/**
 * Maps the hub server's observations onto the service's shared metrics (connections,
 * messages sent, slow-consumer closes, append→send latency), and adds
 * `statuscast_signalr_invocations_total{method,outcome}` to the same registry.
 */
export function signalrMetrics(metrics: Metrics): SignalRMetrics {
  const invocations = invocationCounter(metrics.registry);
  // `messageSent` and `observeLatency` run once per delivery: prom-client hashes the label
  // values on every `labels()` call, so the children are looked up once and kept.
  const sent = new Map<TransportKind, Map<string, ReturnType<Metrics['messagesSent']['labels']>>>();
  const latency = new Map<TransportKind, ReturnType<Metrics['appendToSend']['labels']>>();
  const sentCounter = (transport: TransportKind, target: string) => {
    let byTarget = sent.get(transport);
    if (byTarget === undefined) sent.set(transport, (byTarget = new Map()));
    let child = byTarget.get(target);
    if (child === undefined) byTarget.set(target, (child = metrics.messagesSent.labels(TRANSPORT_LABEL[transport], target)));
    return child;
  };
  const latencyHistogram = (transport: TransportKind) => {
    let child = latency.get(transport);
    if (child === undefined) latency.set(transport, (child = metrics.appendToSend.labels(TRANSPORT_LABEL[transport])));
    return child;
  };
  return {
    connectionOpened: (transport) => metrics.connections.labels(TRANSPORT_LABEL[transport]).inc(),
    connectionClosed: (transport) => metrics.connections.labels(TRANSPORT_LABEL[transport]).dec(),
    messageSent: (transport, target) => sentCounter(transport, target).inc(),
    sendBufferDrop: (transport) => metrics.slowConsumerCloses.labels(TRANSPORT_LABEL[transport]).inc(),
    invocation: (method, outcome) => invocations.labels(method, outcome).inc(),
    observeLatency: (transport, recordedAtMs) => latencyHistogram(transport).observe(Math.max(0, Date.now() - recordedAtMs) / 1000),
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
