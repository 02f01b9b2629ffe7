import { type Api, createApi } from './api.ts';
import { type ConnectionState, INITIAL_CONNECTION } from './connectionState.ts';
import { errorText } from './errors.ts';
import type { FollowOptions } from './followJob.ts';
import { LiveConnection } from './liveConnection.ts';
import { SharedFollower } from './sharedFollower.ts';
import { openSignalRLink } from './transports/signalrLink.ts';
import { openSseLink } from './transports/sseLink.ts';
import { withQuery } from './url.ts';
import type {
  JobMeta,
  JobSummary,
  LatestStatus,
  StreamGrant,
  TimelineBulkMessage,
  TimelineEntry,
  TimelineEventMessage,
} from './wire.ts';

export interface FollowJobsOptions extends FollowOptions {
  /** How many jobs the first `GET /jobs` lists (1–200). Defaults to 50. */
  readonly limit?: number;
  /** At most this many jobs are kept; the oldest listed go first. Defaults to 1,000. */
  readonly maxJobs?: number;
}

/** One job of the feed, as the list shows it. */
export interface FollowedJob {
  readonly job_id: string;
  /** From `GET /jobs`; `null` for a job that first appeared on the live feed. */
  readonly owner: string | null;
  readonly created_at: string | null;
  readonly meta: JobMeta | null;
  /** The revision `latest` is at (0 for a job without status). */
  readonly revision: number;
  readonly latest: LatestStatus | null;
}

export interface FeedFollowState {
  /** The caller's jobs (admins and auditors: all jobs), newest first. */
  readonly jobs: readonly FollowedJob[];
  /** True once the first `GET /jobs` answered. */
  readonly loaded: boolean;
  /** The store position the feed resumes after (`null` before the first answer or on an empty store). */
  readonly position: string | null;
  readonly connection: ConnectionState;
}

export interface FeedUpdate {
  /** Jobs that are new or whose status moved on, in the order they changed. */
  readonly changed: readonly FollowedJob[];
  readonly connectionChanged: boolean;
}

/** The caller's jobs followed live; see `followJobs`. */
export interface FeedFollower extends FeedFollowState {
  readonly state: FeedFollowState;
  subscribe(listener: (update: FeedUpdate) => void): () => void;
  reconnect(): void;
  close(): void;
}

const FEED_TARGETS = ['timeline.bulk', 'timeline.event', 'status.latest'] as const;

/** What the leader tab sends: changed jobs (or all of them, for a hello) and the feed's position. */
interface FeedDelta {
  readonly jobs: readonly FollowedJob[];
  readonly position: string | null;
  readonly loaded: boolean;
}

/**
 * Follows the caller's jobs (the list page of a dashboard): `GET /jobs`, then the live feed
 * (`SubscribeFeed` on the hub, or `GET /events` over SSE) from the `position` that list
 * reflects, so nothing between the two is missed; reconnects resume by position. When the
 * service says the resume point is too old to replay (`feed.reset`, or `SubscribeFeed`'s
 * `too-far-behind`), the list is read again and followed from its new position. A job's
 * status only ever moves forward (by revision), whatever overlaps a reconnect brings.
 */
export function followJobs(options: FollowJobsOptions): FeedFollower {
  return new FeedFollowerImpl(options);
}

class FeedFollowerImpl extends SharedFollower<FeedFollowState, FeedUpdate, StreamGrant, FeedDelta, null> implements FeedFollower {
  readonly #options: FollowJobsOptions;
  readonly #api: Api;
  readonly #jobs = new Map<string, FollowedJob>();
  /** Job ids, newest first. */
  #order: string[] = [];
  #position: string | null = null;
  #loaded = false;
  #loading: Promise<void> | null = null;
  /** The feed started "from now on" (an empty store): list again once it is live. */
  #relistWhenLive = false;

  constructor(options: FollowJobsOptions) {
    const api = createApi(options);
    const transport = options.transport ?? 'auto';
    super(
      { jobs: [], loaded: false, position: null, connection: INITIAL_CONNECTION },
      { share: options.shareAcrossTabs, getToken: options.getToken, parts: [api.baseUrl, 'feed', transport], signal: options.signal },
    );
    this.#options = options;
    this.#api = api;
    this.start();
  }

  get jobs(): readonly FollowedJob[] {
    return this.state.jobs;
  }
  get loaded(): boolean {
    return this.state.loaded;
  }
  get position(): string | null {
    return this.state.position;
  }
  get connection(): ConnectionState {
    return this.state.connection;
  }

  protected openConnection(state: (state: ConnectionState) => void): LiveConnection<StreamGrant> {
    const transport = this.#options.transport ?? 'auto';
    const serverTimeoutMs = this.#options.serverTimeoutMs ?? 30_000;
    return new LiveConnection<StreamGrant>({
      transport,
      negotiate: async () => {
        // The list comes first: the feed follows from the position it reflects.
        if (!this.#loaded) await this.#load();
        return this.#api.negotiateFeed();
      },
      granted: () => {},
      openSignalR: (grant, signal) =>
        openSignalRLink({
          url: grant.url,
          accessToken: grant.accessToken,
          transports: transport === 'sse' ? 'auto' : transport,
          targets: FEED_TARGETS,
          message: (name, data) => this.#onMessage(name, data, undefined),
          subscribe: async (hub) => {
            if (grant.serverless) return;
            await this.#loading;
            let completion: { position?: string | null } | null;
            try {
              completion = await hub.invoke('SubscribeFeed', this.#startFrom());
            } catch (error) {
              if (!/too-far-behind/.test(errorText(error))) throw error;
              // Too old to replay: list again and follow from the list's position.
              await this.#load();
              completion = await hub.invoke('SubscribeFeed', this.#startFrom());
            }
            if (typeof completion?.position === 'string') this.#setPosition(completion.position);
          },
          serverTimeoutMs,
          signal,
          log: this.#options.log,
        }),
      openSse: async (grant, signal) => {
        await this.#loading;
        const url = this.#api.resolve(grant.sse_url);
        const from = this.#startFrom();
        return openSseLink({
          url: from === null ? url : withQuery(url, 'after', from),
          message: (name, data, id) => this.#onMessage(name, data, id),
          idleTimeoutMs: serverTimeoutMs,
          signal,
          fetch: this.#options.fetch,
        });
      },
      live: () => {
        if (this.#relistWhenLive) {
          this.#relistWhenLive = false;
          void this.#load().catch(() => {});
        }
      },
      state,
    });
  }

  protected hello(): null {
    return null;
  }

  protected answer(): FeedDelta {
    // Oldest first, as every update lists its changes: each new job goes on top.
    return { jobs: this.#order.map((id) => this.#jobs.get(id)!).reverse(), position: this.#position, loaded: this.#loaded };
  }

  protected applyFromLeader(delta: FeedDelta): void {
    const changed = delta.jobs.filter((job) => this.#upsert(job, false));
    if (delta.position !== null) this.#position = delta.position;
    this.#loaded ||= delta.loaded;
    this.#changed(changed);
  }

  protected connectionChanged(): void {
    this.#changed([]);
  }

  protected stopped(): void {}

  /** Where the feed resumes: after the last position seen; with none, "from now on" and list again once live. */
  #startFrom(): string | null {
    if (this.#position === null) this.#relistWhenLive = true;
    return this.#position;
  }

  /** `GET /jobs` (one read at a time): merged into the list, and its position taken. */
  #load(): Promise<void> {
    this.#loading ??= (async () => {
      try {
        const page = await this.#api.listJobs(Math.min(200, Math.max(1, this.#options.limit ?? 50)));
        if (this.closed) return;
        const changed: FollowedJob[] = [];
        // Oldest first, so each new job goes on top.
        for (const summary of [...page.jobs].reverse()) {
          const job = fromSummary(summary);
          if (this.#upsert(job, true)) changed.push(job);
        }
        this.#position = page.position;
        this.#loaded = true;
        this.#changed(changed);
      } finally {
        this.#loading = null;
      }
    })();
    return this.#loading;
  }

  #onMessage(name: string, data: unknown, id: string | undefined): void {
    if (this.closed) return;
    const changed: FollowedJob[] = [];
    if (name === 'timeline.bulk') {
      const bulk = data as TimelineBulkMessage;
      const newest = Array.isArray(bulk?.events) ? bulk.events[bulk.events.length - 1] : undefined;
      if (newest && typeof bulk.job_id === 'string') this.#fromEntry(bulk.job_id, newest, changed);
    } else if (name === 'timeline.event') {
      const message = data as TimelineEventMessage;
      if (message?.event && typeof message.job_id === 'string') {
        const isNew = this.#fromEntry(message.job_id, message.event, changed);
        // Resume after the newest event that was new here (overlapping links repeat older ones).
        const position = message.position ?? id;
        if (isNew && position) this.#position = position;
      }
    } else if (name === 'status.latest') {
      const status = data as LatestStatus;
      if (status && typeof status.job_id === 'string') this.#fromEntry(status.job_id, status, changed);
    } else if (name === '') {
      // The SSE feed's id-only frame: the position it caught up to.
      if (id) this.#position = id;
    } else if (name === 'feed.reset') {
      // The service ends this stream; the reconnect follows from the reloaded list's position.
      this.#position = null;
      void this.#load().catch((error: unknown) => this.#options.log?.('warn', `could not reload the job list: ${errorText(error)}`));
      return;
    } else {
      return;
    }
    this.#changed(changed);
  }

  #setPosition(position: string): void {
    this.#position = position;
  }

  /** A timeline entry or status of a job as its new latest status; returns whether it was new. */
  #fromEntry(jobId: string, entry: TimelineEntry, changed: FollowedJob[]): boolean {
    const current = this.#jobs.get(jobId);
    if (current && current.revision >= entry.revision) return false;
    const latest: LatestStatus = { ...entry, job_id: jobId };
    const job: FollowedJob = current
      ? { ...current, revision: entry.revision, latest }
      : { job_id: jobId, owner: null, created_at: null, meta: null, revision: entry.revision, latest };
    if (this.#upsert(job, false)) changed.push(job);
    return true;
  }

  /** Puts a job in the list (a new one on top) unless the list has it at the same or a later revision. */
  #upsert(job: FollowedJob, fromList: boolean): boolean {
    const current = this.#jobs.get(job.job_id);
    if (current && current.revision > job.revision) return false;
    if (current && current.revision === job.revision && !(fromList && current.owner === null)) return false;
    // The list knows the owner and creation time a job first seen on the feed lacks.
    this.#jobs.set(job.job_id, current && !fromList ? { ...job, owner: current.owner ?? job.owner, created_at: current.created_at ?? job.created_at, meta: current.meta ?? job.meta } : job);
    if (!current) {
      this.#order = [job.job_id, ...this.#order];
      const max = this.#options.maxJobs ?? 1_000;
      if (this.#order.length > max) for (const dropped of this.#order.splice(max)) this.#jobs.delete(dropped);
    }
    return true;
  }

  #changed(changed: readonly FollowedJob[]): void {
    const previous = this.state;
    const connection = this.connectionState;
    const connectionChanged = connection !== previous.connection;
    const moved = changed.length > 0 || this.#loaded !== previous.loaded || this.#position !== previous.position;
    if (!moved && !connectionChanged) return;
    this.publish(
      {
        jobs: changed.length > 0 || previous.jobs.length !== this.#order.length ? this.#order.map((id) => this.#jobs.get(id)!) : previous.jobs,
        loaded: this.#loaded,
        position: this.#position,
        connection,
      },
      { changed: changed.map((job) => this.#jobs.get(job.job_id) ?? job), connectionChanged },
    );
    this.broadcast({ jobs: changed.map((job) => this.#jobs.get(job.job_id) ?? job), position: this.#position, loaded: this.#loaded });
  }
}

function fromSummary(summary: JobSummary): FollowedJob {
  return {
    job_id: summary.job_id,
    owner: summary.owner,
    created_at: summary.created_at,
    meta: summary.meta,
    revision: summary.revision,
    latest: summary.latest_status,
  };
}
