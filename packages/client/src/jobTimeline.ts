import type { AuditEvent, LatestStatus, TimelineEntry } from './wire.ts';

/** How many out-of-order entries a timeline holds back while it waits for a hole to be filled. */
const MAX_HELD = 10_000;

/**
 * One job's timeline, exactly once and in order, whatever mix of snapshots, bulks, live
 * events, replays and overlapping connections feeds it. Revisions 1..head are released (the
 * contiguous run every reader sees); an entry beyond a hole is held back, with any
 * `status.latest` newer than the head, until the hole is filled (from
 * `GET /jobs/{id}/history?after=head`). No I/O here.
 */
export class JobTimeline {
  readonly jobId: string;
  #released: TimelineEntry[] = [];
  #held = new Map<number, TimelineEntry>();
  #latest: LatestStatus | null = null;
  #heldLatest: LatestStatus | null = null;
  #duplicates = 0;
  #derived: LatestStatus | null = null;

  constructor(jobId: string) {
    this.jobId = jobId;
  }

  /** The last revision of the unbroken run `1..head`: where every resume starts after. */
  get head(): number {
    return this.#released.length;
  }

  /** The released entries, revisions `1..head` in order. A new array after every change. */
  get entries(): readonly TimelineEntry[] {
    return this.#released;
  }

  /**
   * The job's newest status: the newest `status.latest` within the released run, or the
   * newest released entry when that is newer (every entry carries the same fields).
   */
  get latest(): LatestStatus | null {
    const newest = this.#released[this.#released.length - 1];
    if (!newest || (this.#latest && this.#latest.revision >= newest.revision)) return this.#latest;
    if (this.#derived?.revision !== newest.revision) this.#derived = { ...newest, job_id: this.jobId };
    return this.#derived;
  }

  /** True while entries wait behind a hole. */
  get hasHole(): boolean {
    return this.#held.size > 0 || this.#heldLatest !== null;
  }

  /** Timeline entries ignored because their revision was already applied or held. */
  get duplicates(): number {
    return this.#duplicates;
  }

  /**
   * Applies entries in any order and with any overlap. Returns the entries released by this
   * call, in revision order (each revision is released once, ever).
   */
  accept(entries: readonly TimelineEntry[]): TimelineEntry[] {
    let changed = false;
    for (const entry of entries) {
      const revision = entry?.revision;
      if (!Number.isSafeInteger(revision) || revision < 1) continue;
      if (revision <= this.head || this.#held.has(revision)) {
        this.#duplicates++;
        continue;
      }
      if (this.#held.size >= MAX_HELD && revision > this.head + 1) continue;
      this.#held.set(revision, entry);
      changed = true;
    }
    if (!changed) return [];
    const released: TimelineEntry[] = [];
    for (let next = this.#held.get(this.head + 1 + released.length); next; next = this.#held.get(this.head + 1 + released.length)) {
      this.#held.delete(next.revision);
      released.push(next);
    }
    if (released.length > 0) {
      this.#released = [...this.#released, ...released];
      this.#releaseLatest();
    }
    return released;
  }

  /**
   * Applies a `status.latest`: an older one than the page has is ignored, one beyond the head
   * waits until the timeline reaches it. Returns whether `latest` changed.
   */
  acceptLatest(status: LatestStatus): boolean {
    if (!status || !Number.isSafeInteger(status.revision)) return false;
    // The entry of the same revision (released just before it) already said as much.
    if (this.latest && this.latest.revision >= status.revision) return false;
    if (status.revision > this.head) {
      if (!this.#heldLatest || this.#heldLatest.revision < status.revision) this.#heldLatest = status;
      return false;
    }
    this.#latest = status;
    return true;
  }

  /** Releases a held `status.latest` once the head reached it; returns whether `latest` changed. */
  #releaseLatest(): boolean {
    const held = this.#heldLatest;
    if (!held || held.revision > this.head) return false;
    this.#heldLatest = null;
    if (this.#latest && this.#latest.revision >= held.revision) return false;
    this.#latest = held;
    this.#derived = null;
    return true;
  }
}

/** A `StatusReported` of the raw stream (`GET /jobs/{id}/history`) as the timeline entry the transports send. */
export function entryOfAuditEvent(event: AuditEvent): TimelineEntry | null {
  if (event.type !== 'StatusReported' || !event.data) return null;
  const data = event.data;
  return {
    revision: event.revision,
    stage: data['stage'],
    state: data['state'],
    artifact: data['artifact'] ?? null,
    message: data['message'] ?? null,
    cycle: data['cycle'] ?? null,
    progress: data['progress'] ?? null,
    details: data['details'] ?? {},
    ts: data['ts'],
  } as TimelineEntry;
}
