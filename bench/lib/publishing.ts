import { now, sleep } from './clock.ts';
import type { LoadPool } from './loadPool.ts';
import type { SystemUnderTest } from './systems.ts';

export interface PublishOutcome {
  readonly published: number;
  readonly durationMs: number;
  readonly errors: number;
  readonly firstError?: string;
  /** Open-loop publishing could not keep its schedule (publisher-side backlog, rare). */
  readonly maxInFlight: number;
}

/**
 * Open loop at a steady `rate` (events/s) over `keys` in turn: each event is sent when its
 * time comes, whether or not earlier ones were answered, so a slow server shows up as
 * latency instead of as a slower publisher (no coordinated omission).
 */
export async function publishSteady(sut: SystemUnderTest, keys: readonly string[], rate: number, durationMs: number): Promise<PublishOutcome> {
  const started = now();
  const total = Math.floor((rate * durationMs) / 1000);
  let sent = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let errors = 0;
  let firstError: string | undefined;
  const pending = new Set<Promise<void>>();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - started) * rate) / 1000) + 1);
    while (sent < due) {
      const key = keys[sent % keys.length]!;
      sent++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const p: Promise<void> = sut
        .publish([key], now())
        .catch((error: unknown) => {
          errors++;
          firstError ??= String(error);
        })
        .finally(() => {
          inFlight--;
          pending.delete(p);
        });
      pending.add(p);
    }
    const nextAt = started + (sent * 1000) / rate;
    await sleep(Math.max(0, Math.min(20, nextAt - now())));
  }
  await Promise.all(pending);
  return { published: sent, durationMs: Math.round(now() - started), errors, maxInFlight, ...(firstError ? { firstError } : {}) };
}

/**
 * As fast as the system delivers: keeps at most `windowDeliveries` deliveries published but
 * not yet received by the clients (the workers report what they received every 20 ms), in
 * batches of up to `batchMax` events. The same flow control for every system, so the
 * figure is the delivery rate each sustains, not how much a queue can swallow.
 */
export async function publishBurst(
  sut: SystemUnderTest,
  pool: LoadPool,
  keys: readonly string[],
  subscribersPerKey: number,
  windowDeliveries: number,
  batchMax: number,
  durationMs: number,
): Promise<PublishOutcome> {
  const started = now();
  const deadline = started + durationMs;
  const baseline = pool.totalReceived;
  let publishedDeliveries = 0;
  let sent = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let errors = 0;
  let firstError: string | undefined;
  let cursor = 0;
  const pending = new Set<Promise<void>>();
  while (now() < deadline) {
    const outstanding = publishedDeliveries - (pool.totalReceived - baseline);
    if (outstanding < windowDeliveries && inFlight < 4 && errors === 0) {
      const count = Math.max(1, Math.min(batchMax, Math.ceil((windowDeliveries - outstanding) / subscribersPerKey)));
      const batch = Array.from({ length: count }, () => keys[cursor++ % keys.length]!);
      sent += count;
      publishedDeliveries += count * subscribersPerKey;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const p: Promise<void> = sut
        .publish(batch, now())
        .catch((error: unknown) => {
          errors++;
          firstError ??= String(error);
        })
        .finally(() => {
          inFlight--;
          pending.delete(p);
        });
      pending.add(p);
    } else {
      await pool.nextProgress(5);
    }
  }
  await Promise.all(pending);
  return { published: sent, durationMs: Math.round(now() - started), errors, maxInFlight, ...(firstError ? { firstError } : {}) };
}
