import type { HubConnection } from '@microsoft/signalr';

export interface TimelineBulk {
  readonly job_id: string;
  readonly events: readonly { readonly revision: number }[];
  readonly meta: { readonly from_revision: number; readonly to_revision: number };
}

export interface TimelineEvent {
  readonly job_id: string;
  readonly event: { readonly revision: number } & Record<string, unknown>;
  readonly trace?: unknown;
  readonly position?: string;
}

/** Everything a client received for its jobs, in arrival order, exactly as it arrived (no de-duplication). */
export class JobWatcher {
  /** `bulk`, `event` and `latest` entries in arrival order. */
  readonly received: { kind: 'bulk' | 'event' | 'latest'; job_id: string; revisions: number[] }[] = [];
  readonly bulks: TimelineBulk[] = [];
  readonly events: TimelineEvent[] = [];
  readonly latest: (Record<string, unknown> & { revision: number; job_id: string })[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(connection: HubConnection) {
    connection.on('timeline.bulk', (bulk: TimelineBulk) => {
      this.bulks.push(bulk);
      this.record('bulk', bulk.job_id, bulk.events.map((e) => e.revision));
    });
    connection.on('timeline.event', (event: TimelineEvent) => {
      this.events.push(event);
      this.record('event', event.job_id, [event.event.revision]);
    });
    connection.on('status.latest', (latest: Record<string, unknown> & { revision: number; job_id: string }) => {
      this.latest.push(latest);
      this.record('latest', latest.job_id, [latest.revision]);
    });
  }

  /** Timeline revisions of `jobId` from bulks and events, in arrival order, duplicates kept. */
  revisions(jobId?: string): number[] {
    return this.received
      .filter((r) => r.kind !== 'latest' && (jobId === undefined || r.job_id === jobId))
      .flatMap((r) => r.revisions);
  }

  /** The highest timeline revision seen for `jobId` (0 when none). */
  lastRevision(jobId: string): number {
    return Math.max(0, ...this.revisions(jobId));
  }

  /** Resolves once `predicate` holds; rejects after `timeoutMs` with what was received. */
  until(predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out; received ${JSON.stringify(this.received)}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  private record(kind: 'bulk' | 'event' | 'latest', jobId: string, revisions: number[]): void {
    this.received.push({ kind, job_id: jobId, revisions });
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** `[from, …, to]`. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
