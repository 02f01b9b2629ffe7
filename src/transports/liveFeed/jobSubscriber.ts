import type { CloseReason, JobCatchUp, JobSink, LiveEvent } from './types.ts';

/**
 * One subscriber of one job: buffers live events while its catch-up read runs, then
 * delivers each revision exactly once, in order. The buffer is bounded; a subscriber whose
 * catch-up cannot keep up with the live rate is closed and resumes by revision.
 */
export class JobSubscriber {
  #phase: 'catching-up' | 'live' | 'closed' = 'catching-up';
  #pending: LiveEvent[] = [];
  #last: number;

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

  /** Hands over the catch-up read, then whatever arrived meanwhile, and goes live. */
  finishCatchUp(events: readonly LiveEvent[]): void {
    if (this.#phase !== 'catching-up') return;
    const fromRevision = this.#last + 1;
    // Usually nothing is stale, and the array stays the one other subscribers share.
    const fresh = events.length === 0 || events[0]!.revision > this.#last ? events : events.filter((e) => e.revision > this.#last);
    const toRevision = fresh.length > 0 ? fresh[fresh.length - 1]!.revision : this.#last;
    const catchUp: JobCatchUp = { jobId: this.jobId, events: fresh, fromRevision, toRevision };
    this.#last = toRevision;
    this.#phase = 'live';
    const pending = this.#pending;
    this.#pending = [];
    this.sink.catchUp(catchUp);
    for (const event of pending) this.#deliver(event);
  }

  close(reason: CloseReason | null): void {
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
