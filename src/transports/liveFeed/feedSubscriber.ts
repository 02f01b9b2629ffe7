import { type Principal, seesAllJobs } from '../../auth/principal.ts';
import { type GlobalPosition, comparePositions } from '../../store/position.ts';
import type { CloseReason, FeedSink, LiveEvent } from './types.ts';

/** One subscriber of a multi-job feed, ordered and de-duplicated by store position. */
export class FeedSubscriber {
  #phase: 'catching-up' | 'live' | 'closed' = 'catching-up';
  #pending: LiveEvent[] = [];
  #last: GlobalPosition | null = null;

  constructor(
    readonly principal: Principal,
    private readonly sink: FeedSink,
    private readonly maxPending: number,
    private readonly onClose: (subscriber: FeedSubscriber) => void,
  ) {}

  get isClosed(): boolean {
    return this.#phase === 'closed';
  }

  get seesAll(): boolean {
    return seesAllJobs(this.principal);
  }

  offer(event: LiveEvent): void {
    if (this.#phase === 'closed') return;
    if (!this.seesAll && event.owner !== this.principal.userId) return;
    if (this.#phase === 'catching-up') {
      this.#pending.push(event);
      if (this.#pending.length > this.maxPending) this.close('slow-consumer');
      return;
    }
    this.#deliver(event);
  }

  /** `events` are the visible events strictly after the resume point, up to `head`. */
  finishCatchUp(events: readonly LiveEvent[], head: GlobalPosition | null): void {
    if (this.#phase !== 'catching-up') return;
    this.#last = head;
    this.#phase = 'live';
    const pending = this.#pending;
    this.#pending = [];
    this.sink.catchUp(events, head);
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
    if (this.#phase !== 'live') return;
    if (this.#last !== null && comparePositions(event.position, this.#last) <= 0) return;
    this.#last = event.position;
    this.sink.live(event);
  }
}
