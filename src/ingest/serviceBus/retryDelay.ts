/**
 * Waits before a transient failure is abandoned, longer on each delivery of the same message:
 * `firstMs · 2^(deliveries − 1)`, at most `maxMs`, where `deliveries` counts this delivery too
 * (the SDK's `deliveryCount` + 1: it reports the AMQP header, 0 on the first delivery). Service Bus redelivers an abandoned
 * message at once and dead-letters it after `maxDeliveryCount` deliveries (10 by default), so
 * without a pause a store outage of a second would exhaust them in a tight loop. The pause holds
 * the message's concurrency slot (and the SDK renews its lock), so during an outage the consumer
 * slows to a trickle instead of spinning. `interrupt` ends every pause at once (graceful stop).
 */
export function createRetryDelay(firstMs: number, maxMs: number) {
  const sleepers = new Set<() => void>();
  return {
    delayFor(deliveries: number): number {
      const exponent = Math.min(Math.max(deliveries, 1) - 1, 30);
      return Math.min(maxMs, firstMs * 2 ** exponent);
    },
    wait(ms: number): Promise<void> {
      return new Promise((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          sleepers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, ms);
        sleepers.add(wake);
      });
    },
    interrupt(): void {
      for (const wake of [...sleepers]) wake();
    },
  };
}
