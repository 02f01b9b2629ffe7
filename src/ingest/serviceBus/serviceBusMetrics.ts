import { Counter, Gauge, type Registry } from 'prom-client';

/** The consumer's own metrics; ingest outcomes go to `statuscast_ingest_messages_total{source="servicebus"}`. */
export interface ServiceBusMetrics {
  /** Settlements the broker acknowledged, by kind (`complete`, `abandon`, `dead_letter`) and reason. */
  readonly settlements: Counter<'settlement' | 'reason'>;
  /** Settlements the broker did not acknowledge (lock lost, link gone); the message comes back. */
  readonly settlementFailures: Counter<'settlement'>;
  /** Errors the receiver reported (`receive`, `renewLock`, …); the SDK retries them. */
  readonly receiverErrors: Counter<'source'>;
  /** Messages being processed right now. */
  readonly inFlight: Gauge;
  /** Messages held while the event store is unavailable (waiting to be retried in place). */
  readonly held: Gauge;
}

/**
 * Registers the consumer's metrics on the server's registry, or returns those already there
 * (a consumer restarted in the same process reuses them instead of failing on a duplicate name).
 */
export function serviceBusMetrics(registry: Registry): ServiceBusMetrics {
  const registers = [registry];
  const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
  return {
    settlements:
      existing<Counter<'settlement' | 'reason'>>('statuscast_servicebus_settlements_total') ??
      new Counter({
        name: 'statuscast_servicebus_settlements_total',
        help: 'Service Bus messages settled, by settlement (complete, abandon, dead_letter) and reason',
        labelNames: ['settlement', 'reason'],
        registers,
      }),
    settlementFailures:
      existing<Counter<'settlement'>>('statuscast_servicebus_settlement_failures_total') ??
      new Counter({
        name: 'statuscast_servicebus_settlement_failures_total',
        help: 'Service Bus settlements that failed (the message is redelivered when its lock expires)',
        labelNames: ['settlement'],
        registers,
      }),
    receiverErrors:
      existing<Counter<'source'>>('statuscast_servicebus_receiver_errors_total') ??
      new Counter({
        name: 'statuscast_servicebus_receiver_errors_total',
        help: 'Errors reported by the Service Bus receiver, by where they arose',
        labelNames: ['source'],
        registers,
      }),
    inFlight:
      existing<Gauge>('statuscast_servicebus_in_flight_messages') ??
      new Gauge({
        name: 'statuscast_servicebus_in_flight_messages',
        help: 'Service Bus messages being processed',
        registers,
      }),
    held:
      existing<Gauge>('statuscast_servicebus_held_messages') ??
      new Gauge({
        name: 'statuscast_servicebus_held_messages',
        help: 'Service Bus messages held while the event store is unavailable, waiting to be retried',
        registers,
      }),
  };
}
