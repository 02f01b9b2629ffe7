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

/** The publishes not yet answered, counted, with the first error kept. */
class Publishes {
  inFlight = 0;
  maxInFlight = 0;
  errors = 0;
  private firstError: string | undefined;
  private readonly pending = new Set<Promise<void>>();
  private readonly started = now();

  add(publish: Promise<void>): void {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const p: Promise<void> = publish
      .catch((error: unknown) => {
        this.errors++;
        this.firstError ??= String(error);
      })
      .finally(() => {
        this.inFlight--;
        this.pending.delete(p);
      });
    this.pending.add(p);
  }

  /** Waits for every answer, then sums up. */
  async outcome(published: number): Promise<PublishOutcome> {
    await Promise.all(this.pending);
    const { errors, maxInFlight, firstError } = this;
    return { published, durationMs: Math.round(now() - this.started), errors, maxInFlight, ...(firstError ? { firstError } : {}) };
  }
}

/**
 * Open loop at a steady `rate` (events/s) over `keys` in turn: each event is sent when its
 * time comes, whether or not earlier ones were answered, so a slow server shows up as
 * latency instead of as a slower publisher (no coordinated omission).
 */
export async function publishSteady(sut: SystemUnderTest, keys: readonly string[], rate: number, durationMs: number): Promise<PublishOutcome> {
  const publishes = new Publishes();
  const started = now();
  const total = Math.floor((rate * durationMs) / 1000);
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - started) * rate) / 1000) + 1);
    while (sent < due) {
      const key = keys[sent % keys.length]!;
      sent++;
      publishes.add(sut.publish([key], now()));
    }
    const nextAt = started + (sent * 1000) / rate;
    await sleep(Math.max(0, Math.min(20, nextAt - now())));
  }
  return publishes.outcome(sent);
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
  const publishes = new Publishes();
  const deadline = now() + durationMs;
  const baseline = pool.totalReceived;
  let publishedDeliveries = 0;
  let sent = 0;
  let cursor = 0;
  while (now() < deadline) {
    const outstanding = publishedDeliveries - (pool.totalReceived - baseline);
    if (outstanding < windowDeliveries && publishes.inFlight < 4 && publishes.errors === 0) {
      const count = Math.max(1, Math.min(batchMax, Math.ceil((windowDeliveries - outstanding) / subscribersPerKey)));
      const batch = Array.from({ length: count }, () => keys[cursor++ % keys.length]!);
      sent += count;
      publishedDeliveries += count * subscribersPerKey;
      publishes.add(sut.publish(batch, now()));
    } else {
      await pool.nextProgress(5);
    }
  }
  return publishes.outcome(sent);
}
