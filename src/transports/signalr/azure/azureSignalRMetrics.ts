import { Counter, Gauge, type Registry } from 'prom-client';
import type { Metrics } from '../../../observability/metrics.ts';
import type { RetryReason } from './restClient.ts';

/** Transport label of Azure SignalR sends in the shared metrics. */
export const AZURE_TRANSPORT_LABEL = 'azure-signalr';

/**
 * How a send to a group ended: `sent` (2xx), `rejected` (a status retrying cannot fix),
 * `failed` (still failing after the last attempt), `dropped` (the queue was full and it was
 * the oldest), `abandoned` (the server stopped before it went out), `referenced` (too large for
 * one request: a `timeline.ref` went in its place).
 */
export type SendOutcome = 'sent' | 'rejected' | 'failed' | 'dropped' | 'abandoned' | 'referenced';

/** How a negotiate in serverless mode ended: `azure`, `fallback` (embedded hub), `failed`. */
export type NegotiateOutcome = 'azure' | 'fallback' | 'failed';

export interface AzureSignalRMetrics {
  send(outcome: SendOutcome, count?: number): void;
  /** A send or membership call is being repeated, and why. */
  retry(reason: RetryReason): void;
  /** A send reached the service: counts `messagesSent` and append→send latency with the `azure-signalr` label. */
  delivered(target: string, recordedAtMs: number): void;
  queued(depth: number): void;
  membership(outcome: 'added' | 'removed' | 'failed'): void;
  negotiate(outcome: NegotiateOutcome): void;
  /** Whether this node is the one publishing (always, unless several nodes share a lease). */
  publishing(active: boolean): void;
}

/**
 * Azure SignalR metrics on the service's registry:
 * `statuscast_azure_signalr_sends_total{outcome}`, `statuscast_azure_signalr_retries_total{reason}`,
 * `statuscast_azure_signalr_queued_sends`, `statuscast_azure_signalr_group_memberships_total{outcome}`,
 * `statuscast_azure_signalr_negotiations_total{outcome}`, `statuscast_azure_signalr_publishing`
 * (1 on the node that publishes); plus the shared
 * `statuscast_messages_sent_total` and `statuscast_append_to_send_seconds` with
 * `transport="azure-signalr"` (one message per group send, not per client: the service fans out).
 */
export function azureSignalRMetrics(metrics: Metrics): AzureSignalRMetrics {
  const { registry } = metrics;
  const sends = counter(registry, 'statuscast_azure_signalr_sends_total', 'Sends to Azure SignalR groups by outcome', ['outcome']);
  const retries = counter(registry, 'statuscast_azure_signalr_retries_total', 'Repeated Azure SignalR REST calls by reason', ['reason']);
  const memberships = counter(
    registry,
    'statuscast_azure_signalr_group_memberships_total',
    'User-to-group additions made for negotiate, by outcome',
    ['outcome'],
  );
  const negotiations = counter(registry, 'statuscast_azure_signalr_negotiations_total', 'Negotiations in serverless mode by outcome', [
    'outcome',
  ]);
  const queue =
    (registry.getSingleMetric('statuscast_azure_signalr_queued_sends') as Gauge | undefined) ??
    new Gauge({ name: 'statuscast_azure_signalr_queued_sends', help: 'Sends waiting for their group, in all groups', registers: [registry] });
  const publishing =
    (registry.getSingleMetric('statuscast_azure_signalr_publishing') as Gauge | undefined) ??
    new Gauge({ name: 'statuscast_azure_signalr_publishing', help: '1 while this node publishes to Azure SignalR Service', registers: [registry] });
  return {
    publishing: (active) => publishing.set(active ? 1 : 0),
    send: (outcome, count = 1) => sends.labels(outcome).inc(count),
    retry: (reason) => retries.labels(reason).inc(),
    delivered: (target, recordedAtMs) => {
      metrics.messagesSent.labels(AZURE_TRANSPORT_LABEL, target).inc();
      metrics.appendToSend.labels(AZURE_TRANSPORT_LABEL).observe(Math.max(0, Date.now() - recordedAtMs) / 1000);
    },
    queued: (depth) => queue.set(depth),
    membership: (outcome) => memberships.labels(outcome).inc(),
    negotiate: (outcome) => negotiations.labels(outcome).inc(),
  };
}

/** One counter per registry, even if a second publisher is created on it. */
function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}
