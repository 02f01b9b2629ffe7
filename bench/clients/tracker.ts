import { now } from '../lib/clock.ts';
import { Histogram, type HistogramData } from '../lib/histogram.ts';

/** Per-connection delivery state: the last revision (or sequence) seen, in order. */
export interface Tracked {
  /** The job (or room) this connection follows. */
  readonly key: string;
  last: number;
  /** A reconnect is done once `last` reaches this. */
  target: number;
  caughtUpAt: number;
  /** The connection ended without being asked to. */
  lost: boolean;
  /** The first live message was parsed in full and matched the byte scan. */
  checked: boolean;
}

export function tracked(key: string, last: number): Tracked {
  return { key, last, target: Number.POSITIVE_INFINITY, caughtUpAt: 0, lost: false, checked: false };
}

/** What a kind of connection received in one phase, before latency. */
export interface DeliveryCounts {
  readonly received: number;
  readonly catchUpEvents: number;
  readonly gaps: number;
  readonly duplicates: number;
  readonly mismatches: number;
  readonly lost: number;
}

export interface TrackerStats extends DeliveryCounts {
  readonly latency: HistogramData;
}

/**
 * Counts what a worker's connections receive: deliveries, gaps and duplicates by revision,
 * and append→client latency from the publisher's timestamp. `reset` starts a new phase;
 * `totalReceived` is never reset (the publisher's flow control reads it).
 */
export class Tracker {
  readonly latency = new Histogram();
  received = 0;
  catchUpEvents = 0;
  gaps = 0;
  duplicates = 0;
  mismatches = 0;
  lost = 0;
  totalReceived = 0;
  readonly errors: string[] = [];
  onCaughtUp: (() => void) | null = null;

  live(state: Tracked, seq: number, sentAt: number): void {
    this.received++;
    this.totalReceived++;
    if (Number.isNaN(seq)) {
      this.mismatches++;
      return;
    }
    if (seq === state.last + 1) state.last = seq;
    else if (seq <= state.last) this.duplicates++;
    else {
      this.gaps += seq - state.last - 1;
      state.last = seq;
    }
    if (sentAt > 0) this.latency.record(now() - sentAt);
    if (state.last >= state.target && state.caughtUpAt === 0) this.caughtUp(state);
  }

  /** A catch-up of `count` entries from `from` to `to` (a bulk); `count` 0 is an empty bulk. */
  bulk(state: Tracked, from: number, to: number, count: number): void {
    this.catchUpEvents += count;
    this.totalReceived += count;
    if (count > 0) {
      if (from > state.last + 1) this.gaps += from - state.last - 1;
      else if (from <= state.last) this.duplicates += Math.min(count, state.last - from + 1);
      if (to - from + 1 !== count) this.mismatches++;
      if (to > state.last) state.last = to;
    } else if (to !== state.last) {
      // An empty catch-up must end where the client already was.
      this.mismatches++;
    }
    if (state.last >= state.target && state.caughtUpAt === 0) this.caughtUp(state);
  }

  error(message: string): void {
    if (this.errors.length < 20) this.errors.push(message);
  }

  markLost(state: Tracked): void {
    if (state.lost) return;
    state.lost = true;
    this.lost++;
  }

  reset(): void {
    this.latency.reset();
    this.received = 0;
    this.catchUpEvents = 0;
    this.gaps = 0;
    this.duplicates = 0;
    this.mismatches = 0;
  }

  stats(): TrackerStats {
    return {
      received: this.received,
      catchUpEvents: this.catchUpEvents,
      gaps: this.gaps,
      duplicates: this.duplicates,
      mismatches: this.mismatches,
      lost: this.lost,
      latency: this.latency.toJSON(),
    };
  }

  private caughtUp(state: Tracked): void {
    state.caughtUpAt = now();
    this.onCaughtUp?.();
  }
}
