import { type JobCatchUp, type JobSink, type LiveEvent, MAX_CATCH_UP_PAGE, type Subscription } from './types.ts';

export interface JobTailCacheLimits {
  /** Newest events kept per job; older ones are dropped (clients behind them read the store). */
  readonly maxEventsPerJob: number;
  /** Events kept over all jobs (each job counts one more); the least recently resumed jobs go first. */
  readonly maxEvents: number;
}

export const DEFAULT_TAIL_CACHE_LIMITS: JobTailCacheLimits = { maxEventsPerJob: 1_000, maxEvents: 20_000 };

/** Follows a job after a revision with the live feed's gap-free handoff, without counting as a client. */
export type FollowJob = (jobId: string, afterRevision: number, sink: JobSink) => Promise<Subscription>;

/**
 * The newest events of the jobs clients watch, kept live in memory, so that clients
 * resuming a job catch up from memory instead of each reading the store: a reconnect
 * storm after a network blip, or every client after the first once a node restarted.
 * Clients of one job that resume from the same revision also share one events array, and
 * so one bulk frame per transport (see `CatchUpFrames`).
 *
 * A cached job is followed like any subscriber (registered before its catch-up read,
 * then live), so its events are always a contiguous run of revisions that ends at the
 * last one the feed dispatched. A client registered before asking the cache, so whatever
 * the feed dispatches after that reaches it live, and the overlap is removed by revision.
 */
export class JobTailCache {
  /** In least-recently-used order: a job is moved to the end when a client resumes it. */
  readonly #jobs = new Map<string, CachedJob>();
  #total = 0;
  #evictionQueued = false;

  constructor(
    private readonly follow: FollowJob,
    private readonly limits: JobTailCacheLimits = DEFAULT_TAIL_CACHE_LIMITS,
    /** Told the number of events held whenever it changes (for metrics). */
    private readonly onSize: (events: number) => void = () => undefined,
  ) {}

  /**
   * The events of `jobId` with revision ≥ `fromRevision` in catch-up pages (at least one,
   * possibly empty), or `undefined` when the cache cannot answer (the client is behind what
   * is kept, or following the job failed): the caller then reads the store. The pages are
   * shared with other clients resuming from the same revision; never mutate them.
   */
  async pagesFrom(jobId: string, fromRevision: number): Promise<readonly (readonly LiveEvent[])[] | undefined> {
    let job = this.#jobs.get(jobId);
    if (job === undefined) {
      job = new CachedJob(this.limits.maxEventsPerJob, (delta) => this.#resized(delta), () => this.#forget(jobId, job!));
      this.#jobs.set(jobId, job);
      job.start(this.follow(jobId, fromRevision - 1, job.sink));
    } else {
      this.#jobs.delete(jobId);
      this.#jobs.set(jobId, job);
    }
    if (!(await job.ready)) return undefined;
    const pages = job.pagesFrom(fromRevision);
    job.trim();
    this.#evict();
    return pages;
  }

  #forget(jobId: string, job: CachedJob): void {
    if (this.#jobs.get(jobId) === job) this.#jobs.delete(jobId);
  }

  /**
   * Live events grow the cache between resumes too, so growth past the limit queues an
   * eviction; it runs after the dispatch in progress, which must not see subscriptions close.
   */
  #resized(delta: number): void {
    this.#total += delta;
    this.onSize(this.#total);
    if (delta > 0 && !this.#evictionQueued && this.#overLimit()) {
      this.#evictionQueued = true;
      queueMicrotask(() => {
        this.#evictionQueued = false;
        this.#evict();
      });
    }
  }

  /** Each job counts as one event too, so that many quiet jobs stay bounded as well. */
  #overLimit(): boolean {
    return this.#total + this.#jobs.size > this.limits.maxEvents;
  }

  /**
   * Trims every job to its own bound first, then drops the least recently resumed jobs until
   * a tenth of the limit is free again, so that a cache at its limit is not swept per event.
   */
  #evict(): void {
    if (!this.#overLimit()) return;
    for (const job of this.#jobs.values()) job.trim();
    const target = this.limits.maxEvents - Math.floor(this.limits.maxEvents / 10);
    for (const job of this.#jobs.values()) {
      if (this.#total + this.#jobs.size <= target) return;
      job.close();
    }
  }
}

class CachedJob {
  #events: LiveEvent[] = [];
  /** The last revision the cache has seen (held, or the revision it started after). */
  #last = 0;
  #closed = false;
  #subscription: Subscription | null = null;
  /** The last answer, so clients resuming from the same revision share its pages. */
  #answer: { readonly from: number; readonly last: number; readonly pages: readonly (readonly LiveEvent[])[] } | null = null;
  ready: Promise<boolean> = Promise.resolve(false);

  readonly sink: JobSink = {
    catchUp: (catchUp: JobCatchUp) => {
      // Pages arrive in order; their arrays may be shared with other readers, so they are copied.
      // A long history arrives in many pages: what earlier pages brought is trimmed first, so
      // the cache never holds more than its bound and one page.
      if (this.#events.length >= 2 * this.maxEvents) this.trim();
      for (const event of catchUp.events) this.#events.push(event);
      this.#last = catchUp.toRevision;
      this.resize(catchUp.events.length);
    },
    live: (event: LiveEvent) => {
      this.#events.push(event);
      this.#last = event.revision;
      this.resize(1);
      // Trimming in steps keeps the cost of `splice` per event small.
      if (this.#events.length >= 2 * this.maxEvents) this.trim();
    },
    closed: () => this.close(),
  };

  constructor(
    private readonly maxEvents: number,
    private readonly resize: (delta: number) => void,
    private readonly forget: () => void,
  ) {}

  start(following: Promise<Subscription>): void {
    this.ready = following.then(
      (subscription) => {
        if (this.#closed) subscription.close();
        else this.#subscription = subscription;
        return !this.#closed;
      },
      () => {
        this.close();
        return false;
      },
    );
  }

  pagesFrom(from: number): readonly (readonly LiveEvent[])[] | undefined {
    if (this.#closed) return undefined;
    const first = this.#events[0]?.revision ?? this.#last + 1;
    if (from < first || from > this.#last + 1) return undefined;
    const answer = this.#answer;
    if (answer !== null && answer.from === from && answer.last === this.#last) return answer.pages;
    const start = this.#events.findIndex((event) => event.revision >= from);
    const pages: LiveEvent[][] = [];
    if (start >= 0) for (let at = start; at < this.#events.length; at += MAX_CATCH_UP_PAGE) pages.push(this.#events.slice(at, at + MAX_CATCH_UP_PAGE));
    if (pages.length === 0) pages.push([]);
    this.#answer = { from, last: this.#last, pages };
    return pages;
  }

  trim(): void {
    const excess = this.#events.length - this.maxEvents;
    if (excess <= 0) return;
    this.#events.splice(0, excess);
    this.resize(-excess);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscription?.close();
    this.#subscription = null;
    this.resize(-this.#events.length);
    this.#events = [];
    this.#answer = null;
    this.forget();
  }
}
