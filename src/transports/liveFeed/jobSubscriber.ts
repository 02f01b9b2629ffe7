import type { CloseReason, JobCatchUp, JobSink, LiveEvent, Subscription } from './types.ts';

/**
 * One subscriber of one job: buffers live events while its catch-up read runs, then
 * delivers each revision exactly once, in order. The buffer is bounded; a subscriber whose
 * catch-up cannot keep up with the live rate is closed and resumes by revision.
 * It is also the subscription its caller holds (`close()`), so an idle subscriber is one object.
 */
export class JobSubscriber implements Subscription {
  #phase: 'catching-up' | 'live' | 'closed' = 'catching-up';
  #pending: LiveEvent[] = [];
  #last: number;
  #pages = 0;

  constructor(
    readonly jobId: string,
    afterRevision: number,
    private readonly sink: JobSink,
    private readonly maxPending: number,
    private readonly onClose: (subscriber: JobSubscriber) => void,
  ) {
    this.#last = afterRevision;
  }

  get isClosed(): boolean {
    return this.#phase === 'closed';
  }

  /** Called by the feed for every live event of this job, in store order. */
  offer(event: LiveEvent): void {
    if (this.#phase === 'closed') return;
    if (this.#phase === 'catching-up') {
      this.#pending.push(event);
      if (this.#pending.length > this.maxPending) this.close('slow-consumer');
      return;
    }
    this.#deliver(event);
  }

  /** The revision delivered last (or the one the subscriber started after). */
  get lastRevision(): number {
    return this.#last;
  }

  /** Hands over one page of the catch-up read (revisions already delivered are dropped). */
  catchUpPage(events: readonly LiveEvent[]): void {
    if (this.#phase !== 'catching-up') return;
    const fromRevision = this.#last + 1;
    // Usually nothing is stale, and the array stays the one other subscribers share.
    const fresh = events.length === 0 || events[0]!.revision > this.#last ? events : events.filter((e) => e.revision > this.#last);
    if (fresh.length === 0 && this.#pages > 0) return;
    const toRevision = fresh.length > 0 ? fresh[fresh.length - 1]!.revision : this.#last;
    const catchUp: JobCatchUp = { jobId: this.jobId, events: fresh, fromRevision, toRevision };
    this.#last = toRevision;
    this.#pages += 1;
    this.sink.catchUp(catchUp);
  }

  /** The catch-up is complete (at least one page, possibly empty): deliver what arrived meanwhile and go live. */
  goLive(): void {
    if (this.#phase !== 'catching-up') return;
    if (this.#pages === 0) this.catchUpPage([]);
    if (this.#phase !== 'catching-up') return;
    this.#phase = 'live';
    const pending = this.#pending;
    this.#pending = [];
    for (const event of pending) this.#deliver(event);
  }

  /** `null` (the default): the caller unsubscribed, so its sink is not told. */
  close(reason: CloseReason | null = null): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    this.#pending = [];
    this.onClose(this);
    if (reason !== null) this.sink.closed(reason);
  }

  #deliver(event: LiveEvent): void {
    if (this.#phase !== 'live' || event.revision <= this.#last) return;
    if (event.revision !== this.#last + 1) {
      this.close('out-of-sync');
      return;
    }
    this.#last = event.revision;
    this.sink.live(event);
  }
}
