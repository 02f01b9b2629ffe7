import { type GlobalPosition, comparePositions } from '../../store/position.ts';
import type { FeedScope } from '../streamAccess.ts';
import type { CloseReason, FeedSink, LiveEvent } from './types.ts';

/** One subscriber of a multi-job feed, ordered and de-duplicated by store position. */
export class FeedSubscriber {
  #phase: 'catching-up' | 'live' | 'closed' = 'catching-up';
  #pending: LiveEvent[] = [];
  #last: GlobalPosition | null = null;

  constructor(
    readonly scope: FeedScope,
    private readonly sink: FeedSink,
    private readonly maxPending: number,
    private readonly onClose: (subscriber: FeedSubscriber) => void,
  ) {}

  get isClosed(): boolean {
    return this.#phase === 'closed';
  }

  /** Whether the feed carries `event`. */
  carries(event: LiveEvent): boolean {
    return this.scope.kind === 'all' || event.owner === this.scope.userId;
  }

  offer(event: LiveEvent): void {
    if (this.#phase === 'closed') return;
    if (!this.carries(event)) return;
    if (this.#phase === 'catching-up') {
      this.#pending.push(event);
      if (this.#pending.length > this.maxPending) this.close('slow-consumer');
      return;
    }
    this.#deliver(event);
  }

  /** One page of the catch-up: the carried events strictly after the previous page, up to `head`. */
  catchUpPage(events: readonly LiveEvent[], head: GlobalPosition | null): void {
    if (this.#phase !== 'catching-up') return;
    this.#last = head;
    this.sink.catchUp(events, head);
  }

  /** The catch-up is complete: deliver what arrived meanwhile (beyond the last page) and go live. */
  goLive(): void {
    if (this.#phase !== 'catching-up') return;
    this.#phase = 'live';
    const pending = this.#pending;
    this.#pending = [];
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
