import type { Metrics } from '../../observability/metrics.ts';
import type { LiveEvent } from '../liveFeed/types.ts';

/**
 * The per-delivery metrics of a fan-out, kept off the per-connection path: prom-client
 * hashes the labels and allocates on every `inc`/`observe`, which at thousands of
 * connections per event costs about as much as the write itself. Deliveries are counted
 * in a plain number and added once per turn (so a scrape sees them as soon as the turn
 * that wrote them is over). Append→send latency is observed once per event per turn: the
 * deliveries of one event in one turn are written within that turn, so the others would
 * only repeat the same value.
 */
export function deliveryMetrics(metrics: Metrics, transport: string): { delivered(event: LiveEvent): void } {
  const sentTimeline = metrics.messagesSent.labels(transport, 'timeline.event');
  const sentLatest = metrics.messagesSent.labels(transport, 'status.latest');
  const latency = metrics.appendToSend.labels(transport);
  let pending = 0;
  let observed: LiveEvent | undefined;
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    sentTimeline.inc(pending);
    sentLatest.inc(pending);
    pending = 0;
    observed = undefined;
  }

  return {
    delivered(event) {
      pending += 1;
      if (event !== observed) {
        observed = event;
        latency.observe((Date.now() - event.recordedAtMs) / 1000);
      }
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
  };
}
