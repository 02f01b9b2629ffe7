import type { ClientKind, OfficialKind, Ticket } from '../clients/loadClient.ts';
import type { DeliveryCounts, TrackerStats } from '../clients/tracker.ts';
import { type Child, spawnChild } from './children.ts';
import { Histogram, type LatencySummary } from './histogram.ts';

/** Source addresses for client sockets: 16 × ~28k ephemeral ports, so ports never run out. */
export const LOCAL_ADDRESSES = Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 2}`);

export type { OfficialKind };

interface WorkerStats {
  byKind: Record<string, TrackerStats>;
  connections: number;
  errors: string[];
  cpuPercent: number;
  eventLoopUtilization: number;
}

/** What one kind of client received in one phase. */
export interface KindDelivery extends DeliveryCounts {
  readonly latencyMs: LatencySummary;
}

/** What a pool of workers received in one phase, merged (and per client kind). */
export interface DeliveryStats extends KindDelivery {
  readonly byKind: Record<string, KindDelivery>;
  readonly connections: number;
  /** Each worker's CPU (share of one core) and event-loop utilization: is the client the limit? */
  readonly workers: readonly { readonly cpuPercent: number; readonly eventLoopUtilization: number }[];
  readonly errors: readonly string[];
}

/**
 * The load-generating processes of a run. Tickets are split over the workers; every figure
 * they report is merged here.
 */
export class LoadPool {
  private readonly totals: number[];
  private waiters: (() => void)[] = [];

  private constructor(readonly workers: readonly Child[]) {
    this.totals = workers.map(() => 0);
    workers.forEach((worker, index) =>
      worker.on((event) => {
        if (event.event !== 'progress') return;
        this.totals[index] = Number(event['total']);
        const waiters = this.waiters;
        this.waiters = [];
        for (const wake of waiters) wake();
      }),
    );
  }

  /** Starts `count` workers: the raw-protocol load worker, or another script with the same ops. */
  static async start(count: number, name = 'load', script = new URL('../clients/loadWorker.ts', import.meta.url)): Promise<LoadPool> {
    const workers = await Promise.all(
      Array.from({ length: count }, (_, i) => spawnChild(script, { name: `${name}-${i}`, nodeFlags: ['--max-old-space-size=4096'] })),
    );
    return new LoadPool(workers);
  }

  /** Deliveries received so far by every worker (from their progress reports). */
  get totalReceived(): number {
    return this.totals.reduce((a, b) => a + b, 0);
  }

  /** Resolves at the next progress report (or after `ms`). */
  nextProgress(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async open(kind: ClientKind | OfficialKind, url: string, tickets: readonly Ticket[], options: { concurrency?: number; recovery?: boolean } = {}) {
    const shares = this.workers.map((_, w) => tickets.filter((_, i) => i % this.workers.length === w));
    const answers = await Promise.all(
      this.workers.map((worker, w) =>
        worker.request<{ opened: number; failed: number; errors: string[]; ms: number }>(
          'open',
          { kind, url, tickets: shares[w], localAddresses: LOCAL_ADDRESSES, concurrency: options.concurrency ?? 100, recovery: options.recovery ?? false },
          600_000,
        ),
      ),
    );
    return {
      opened: answers.reduce((a, b) => a + b.opened, 0),
      failed: answers.reduce((a, b) => a + b.failed, 0),
      errors: answers.flatMap((a) => a.errors),
      ms: Math.max(...answers.map((a) => a.ms)),
    };
  }

  async resetAll(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request('resetAll')));
    this.totals.fill(0);
  }

  async phase(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request('phase')));
  }

  /** Starts (or, with 0, stops) progress reports; the totals are current when this resolves. */
  async progress(intervalMs: number): Promise<void> {
    const answers = await Promise.all(this.workers.map((w) => w.request<{ total: number }>('progress', { intervalMs })));
    answers.forEach((answer, index) => {
      this.totals[index] = answer.total;
    });
  }

  async stats(): Promise<DeliveryStats> {
    return merge(await Promise.all(this.workers.map((w) => w.request<WorkerStats>('stats'))));
  }

  /** Waits for every connection to reach its key's final revision; what is missing then is `undelivered`. */
  async finalCheck(finals: Record<string, number>, timeoutMs: number) {
    const answers = await Promise.all(
      this.workers.map((w) => w.request<WorkerStats & { behind: number; tailGaps: number; beyond: number }>('finalCheck', { finals, timeoutMs }, timeoutMs + 60_000)),
    );
    return {
      ...merge(answers),
      behind: answers.reduce((a, b) => a + b.behind, 0),
      undelivered: answers.reduce((a, b) => a + b.tailGaps, 0),
      beyond: answers.reduce((a, b) => a + b.beyond, 0),
    };
  }

  async drop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request('drop')));
  }

  async resume(targets: Record<string, number>, timeoutMs: number, concurrency: number) {
    const answers = await Promise.all(
      this.workers.map((w) =>
        w.request<WorkerStats & { startedAt: number; resumed: number; failed: number; caughtUp: number; firstCaughtUpAt: number; lastCaughtUpAt: number }>(
          'resume',
          { targets, timeoutMs, concurrency },
          timeoutMs + 60_000,
        ),
      ),
    );
    return {
      ...merge(answers),
      startedAt: Math.min(...answers.map((a) => a.startedAt)),
      lastCaughtUpAt: Math.max(...answers.map((a) => a.lastCaughtUpAt)),
      resumed: answers.reduce((a, b) => a + b.resumed, 0),
      failed: answers.reduce((a, b) => a + b.failed, 0),
      caughtUp: answers.reduce((a, b) => a + b.caughtUp, 0),
    };
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request('closeAll', {}, 120_000)));
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
  }
}

function mergeKind(parts: readonly TrackerStats[]): KindDelivery {
  const sum = (key: keyof DeliveryCounts) => parts.reduce((a, p) => a + p[key], 0);
  return {
    received: sum('received'),
    catchUpEvents: sum('catchUpEvents'),
    gaps: sum('gaps'),
    duplicates: sum('duplicates'),
    mismatches: sum('mismatches'),
    lost: sum('lost'),
    latencyMs: Histogram.from(parts.map((p) => p.latency)).summary(),
  };
}

function merge(parts: readonly WorkerStats[]): DeliveryStats {
  const kinds = [...new Set(parts.flatMap((p) => Object.keys(p.byKind)))];
  const byKind = Object.fromEntries(kinds.map((kind) => [kind, mergeKind(parts.flatMap((p) => (p.byKind[kind] ? [p.byKind[kind]!] : [])))]));
  const all = mergeKind(parts.flatMap((p) => Object.values(p.byKind)));
  return {
    byKind,
    ...all,
    connections: parts.reduce((a, p) => a + p.connections, 0),
    workers: parts.map((p) => ({ cpuPercent: p.cpuPercent, eventLoopUtilization: p.eventLoopUtilization })),
    errors: parts.flatMap((p) => p.errors).slice(0, 10),
  };
}
