import { type JobHistory, type JobMeta, type JobState, type LatestStatus, type TimelineEntry } from './wire.ts';

/** Where a stage stands relative to the job's current stage. */
export interface StageView {
  readonly name: string;
  readonly position: 'past' | 'current' | 'future';
}

/**
 * One job's timeline as the page knows it, whatever transport fed it. Entries are keyed by
 * revision, so a bulk that overlaps the history, a replayed live event or a second copy
 * after a reconnect is applied once; the timeline is always read in revision order.
 * No DOM here: the view asks what changed and renders that.
 */
export class JobTimeline {
  readonly jobId: string;
  #entries = new Map<number, TimelineEntry>();
  #sorted: TimelineEntry[] | null = [];
  #latest: LatestStatus | null = null;
  #meta: JobMeta = { stage_order: null, expected_cycles: null };
  #owner: string | null = null;
  #contiguousHead = 0;
  #duplicates = 0;

  constructor(jobId: string) {
    this.jobId = jobId;
  }

  /** Applies a negotiate or `GET /jobs/{id}` snapshot; returns the entries it added. */
  applyHistory(history: JobHistory): TimelineEntry[] {
    this.#meta = { stage_order: history.meta.stage_order, expected_cycles: history.meta.expected_cycles };
    this.#owner = history.meta.owner;
    if (history.latest_status) this.applyLatest(history.latest_status);
    return this.applyEntries(history.timeline_events);
  }

  /**
   * Applies timeline entries (a bulk, one live event, a history) in any order and with any
   * overlap. Returns the entries that were new, in revision order.
   */
  applyEntries(entries: readonly TimelineEntry[]): TimelineEntry[] {
    const added: TimelineEntry[] = [];
    for (const entry of entries) {
      if (!Number.isInteger(entry.revision) || entry.revision < 1) continue;
      if (this.#entries.has(entry.revision)) {
        this.#duplicates++;
        continue;
      }
      this.#entries.set(entry.revision, entry);
      added.push(entry);
    }
    if (added.length === 0) return added;
    this.#sorted = null;
    while (this.#entries.has(this.#contiguousHead + 1)) this.#contiguousHead++;
    return added.sort((a, b) => a.revision - b.revision);
  }

  /** Applies `status.latest`; one older than what the page has is ignored. Returns whether it changed. */
  applyLatest(latest: LatestStatus): boolean {
    if (this.#latest && this.#latest.revision >= latest.revision) return false;
    const newest = this.entries.at(-1);
    if (newest && newest.revision > latest.revision) return false;
    this.#latest = latest;
    return true;
  }

  /**
   * The revision to resume after: the end of the unbroken run `1..r` the page holds. A hole
   * (never expected from the server) is therefore refilled by the next resume.
   */
  get resumeAfter(): number {
    return this.#contiguousHead;
  }

  /** Entries ignored because their revision was already applied. */
  get duplicatesIgnored(): number {
    return this.#duplicates;
  }

  get entries(): readonly TimelineEntry[] {
    this.#sorted ??= [...this.#entries.values()].sort((a, b) => a.revision - b.revision);
    return this.#sorted;
  }

  get meta(): JobMeta {
    return this.#meta;
  }

  get owner(): string | null {
    return this.#owner;
  }

  /** The newest status the page knows, from `status.latest` or the newest timeline entry. */
  get current(): (TimelineEntry & { readonly job_id: string }) | null {
    const entries = this.entries;
    const newest = entries[entries.length - 1];
    if (this.#latest && (!newest || this.#latest.revision >= newest.revision)) return this.#latest;
    return newest ? { ...newest, job_id: this.jobId } : null;
  }

  get state(): JobState | null {
    return this.current?.state ?? null;
  }

  /**
   * The stages in `stage_order` (or in order of first appearance when the job gave none),
   * plus any stage reported outside that order, each placed relative to the current one.
   */
  get stages(): StageView[] {
    const names: string[] = [...(this.#meta.stage_order ?? [])];
    for (const entry of this.entries) if (!names.includes(entry.stage)) names.push(entry.stage);
    const currentStage = this.current?.stage;
    if (currentStage !== undefined && !names.includes(currentStage)) names.push(currentStage);
    const currentIndex = currentStage === undefined ? -1 : names.indexOf(currentStage);
    return names.map((name, index) => ({
      name,
      position: index < currentIndex ? 'past' : index === currentIndex ? 'current' : 'future',
    }));
  }
}
