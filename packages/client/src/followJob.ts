import { type Api, type GetToken, createApi } from './api.ts';
import { reconnectDelay } from './backoff.ts';
import { type ConnectionState, INITIAL_CONNECTION } from './connectionState.ts';
import { asStatuscastError } from './errors.ts';
import { JobTimeline, entryOfAuditEvent } from './jobTimeline.ts';
import { LiveConnection, type TransportOption } from './liveConnection.ts';
import { SharedFollower } from './sharedFollower.ts';
import { openSignalRLink, type ClientLog } from './transports/signalrLink.ts';
import { openSseLink } from './transports/sseLink.ts';
import { withQuery } from './url.ts';
import {
  type JobGrant,
  type JobSnapshot,
  type LatestStatus,
  TERMINAL_STATES,
  type TimelineBulkMessage,
  type TimelineEntry,
  type TimelineEventMessage,
} from './wire.ts';

export interface FollowOptions {
  /** Where statuscast runs, e.g. `https://status.example.com`. Defaults to the page's origin in a browser; required in Node. */
  readonly baseUrl?: string;
  /**
   * Returns the user's token (a bearer JWT). Called before every API request (negotiate,
   * `GET /jobs`, `GET /jobs/{id}/history`), so it may refresh the token; a 401 is retried
   * once if it then returns a different token. The stream tokens negotiate returns are the
   * only tokens the hub and the SSE URL ever see.
   */
  readonly getToken: GetToken;
  /**
   * `auto` (default): the official SignalR client (WebSockets, then Server-Sent Events, then
   * long polling), and statuscast's own SSE endpoint when no SignalR transport opens.
   * `websockets`, `server-sent-events` or `long-polling` force one SignalR transport; `sse`
   * uses statuscast's SSE endpoint only.
   */
  readonly transport?: TransportOption;
  /** Aborting it closes the follower (as `close()`). */
  readonly signal?: AbortSignal;
  /**
   * Share one connection among the tabs of this origin that follow the same thing as the same
   * user (Web Locks + BroadcastChannel; ignored where those are missing, as in Node). A string
   * names the user for tokens that are not JWTs. Defaults to `true`.
   */
  readonly shareAcrossTabs?: boolean | string;
  /**
   * A connection that receives nothing (not even the service's keep-alive, sent every 15 s)
   * for this long is given up and reopened. Defaults to 30 s.
   */
  readonly serverTimeoutMs?: number;
  /** Receives the client's diagnostics (the official SignalR client's log included). Defaults to none. */
  readonly log?: ClientLog;
  /** The `fetch` for API calls and the SSE endpoint. Defaults to the global one. */
  readonly fetch?: typeof fetch;
}

/** What a job follower knows; a new object after every change. */
export interface JobFollowState {
  readonly jobId: string;
  /** The history snapshot of the latest negotiate (`null` until the first answer). */
  readonly snapshot: JobSnapshot | null;
  /** Revisions `1..n`, in order, each exactly once. */
  readonly timeline: readonly TimelineEntry[];
  /** The job's newest status (`null` before it reported any). */
  readonly latest: LatestStatus | null;
  /** True once the job reached `succeeded`, `failed` or `cancelled`: nothing more will come. */
  readonly terminal: boolean;
  readonly connection: ConnectionState;
}

/** What changed in one update. */
export interface JobUpdate {
  /** Timeline entries new to this follower, in revision order (each revision is in exactly one update). */
  readonly added: readonly TimelineEntry[];
  readonly latestChanged: boolean;
  readonly snapshotChanged: boolean;
  readonly connectionChanged: boolean;
}

/** A job followed live; see `followJob`. */
export interface JobFollower extends JobFollowState {
  readonly state: JobFollowState;
  /** Calls `listener` after every change; returns the function that removes it. */
  subscribe(listener: (update: JobUpdate) => void): () => void;
  /** Retries now instead of waiting for the back-off (or after `offline`). */
  reconnect(): void;
  /** Stops following: closes the connection (or hands it to another tab). Idempotent. */
  close(): void;
}

/** `timeline.ref` comes only from Azure SignalR Service, for an event too large to send (read it from history). */
const JOB_TARGETS = ['timeline.bulk', 'timeline.event', 'status.latest', 'timeline.ref'] as const;

/** What the leader tab sends: entries new to the followers, the latest status and (when new) the snapshot. */
interface JobDelta {
  readonly entries: readonly TimelineEntry[];
  readonly latest: LatestStatus | null;
  readonly snapshot: JobSnapshot | null;
}

/**
 * Follows one job live: negotiates (rendering `snapshot` at once), connects (SignalR,
 * falling back to statuscast SSE), subscribes after the last revision it holds, and
 * delivers every revision exactly once and in order — across reconnects, stream-token
 * renewals (made before the token expires, with no visible reconnect), replays, and holes
 * (filled from `GET /jobs/{id}/history?after=` before later entries are released). In a
 * browser, tabs following the same job as the same user share one connection.
 *
 * ```ts
 * const job = followJob('job-42', { baseUrl: 'https://status.example.com', getToken: () => auth.token });
 * job.subscribe(({ added }) => added.forEach(render));
 * ```
 */
export function followJob(jobId: string, options: FollowOptions): JobFollower {
  return new JobFollowerImpl(jobId, options);
}

class JobFollowerImpl extends SharedFollower<JobFollowState, JobUpdate, JobGrant, JobDelta, number> implements JobFollower {
  readonly jobId: string;
  readonly #options: FollowOptions;
  readonly #api: Api;
  readonly #timeline: JobTimeline;
  #snapshot: JobSnapshot | null = null;
  #filling = false;
  #fillAgain = false;
  #fillFailures = 0;
  #fillTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(jobId: string, options: FollowOptions) {
    const api = createApi(options);
    const transport = options.transport ?? 'auto';
    super(
      { jobId, snapshot: null, timeline: [], latest: null, terminal: false, connection: INITIAL_CONNECTION },
      { share: options.shareAcrossTabs, getToken: options.getToken, parts: [api.baseUrl, 'job', jobId, transport], signal: options.signal },
    );
    this.jobId = jobId;
    this.#options = options;
    this.#api = api;
    this.#timeline = new JobTimeline(jobId);
    this.start();
  }

  get snapshot(): JobSnapshot | null {
    return this.state.snapshot;
  }
  get timeline(): readonly TimelineEntry[] {
    return this.state.timeline;
  }
  get latest(): LatestStatus | null {
    return this.state.latest;
  }
  get terminal(): boolean {
    return this.state.terminal;
  }
  get connection(): ConnectionState {
    return this.state.connection;
  }

  protected openConnection(state: (state: ConnectionState) => void): LiveConnection<JobGrant> {
    const transport = this.#options.transport ?? 'auto';
    const serverTimeoutMs = this.#options.serverTimeoutMs ?? 30_000;
    return new LiveConnection<JobGrant>({
      transport,
      negotiate: () => this.#api.negotiateJob(this.jobId),
      granted: ({ grant }) => this.#applySnapshot(grant.history),
      openSignalR: (grant, signal) =>
        openSignalRLink({
          url: grant.url,
          accessToken: grant.accessToken,
          transports: transport === 'sse' ? 'auto' : transport,
          targets: JOB_TARGETS,
          message: (name, data) => this.#onMessage(name, data),
          // Serverless (Azure SignalR Service): no hub methods; the catch-up comes from the history API.
          subscribe: async (hub) => {
            if (!grant.serverless) await hub.invoke('Subscribe', this.jobId, this.#timeline.head);
          },
          serverTimeoutMs,
          signal,
          log: this.#options.log,
        }),
      openSse: (grant, signal) =>
        openSseLink({
          url: withQuery(this.#api.resolve(grant.sse_url), 'after', String(this.#timeline.head)),
          message: (name, data) => this.#onMessage(name, data),
          idleTimeoutMs: serverTimeoutMs,
          signal,
          fetch: this.#options.fetch,
        }),
      live: (grant) => {
        // Serverless: whatever was sent before this connection joined is read over HTTP.
        if (grant.serverless) this.#fill(true);
      },
      state,
    });
  }

  protected hello(): number {
    return this.#timeline.head;
  }

  protected answer(after: number): JobDelta {
    return { entries: this.#timeline.entries.slice(Math.max(0, after)), latest: this.#timeline.latest, snapshot: this.#snapshot };
  }

  protected applyFromLeader(delta: JobDelta): void {
    this.#applySnapshot(delta.snapshot);
    const added = this.#timeline.accept(delta.entries);
    const latestChanged = delta.latest ? this.#timeline.acceptLatest(delta.latest) : false;
    this.#changed({ added, latestChanged });
    this.#checkHole();
  }

  protected connectionChanged(): void {
    this.#changed({});
  }

  protected stopped(): void {
    clearTimeout(this.#fillTimer);
  }

  #onMessage(name: string, data: unknown): void {
    if (this.closed) return;
    let added: TimelineEntry[] = [];
    let latestChanged = false;
    if (name === 'timeline.bulk') {
      const bulk = data as TimelineBulkMessage;
      if (bulk?.job_id === this.jobId && Array.isArray(bulk.events)) added = this.#timeline.accept(bulk.events);
    } else if (name === 'timeline.event') {
      const message = data as TimelineEventMessage;
      if (message?.job_id === this.jobId && message.event) added = this.#timeline.accept([message.event]);
    } else if (name === 'status.latest') {
      const status = data as LatestStatus;
      if (status?.job_id === this.jobId) latestChanged = this.#timeline.acceptLatest(status);
    } else if (name === 'timeline.ref') {
      // The revision exists but was too large for the service to carry: read it at once.
      const reference = data as { job_id?: unknown; revision?: unknown };
      if (reference?.job_id === this.jobId && typeof reference.revision === 'number' && reference.revision > this.#timeline.head) this.#fill(true);
      return;
    } else {
      return;
    }
    if (added.length > 0 || latestChanged) this.#changed({ added, latestChanged });
    this.#checkHole();
  }

  #applySnapshot(snapshot: JobSnapshot | null): void {
    if (!snapshot || this.closed) return;
    const newer = !this.#snapshot || snapshot.meta.revision >= this.#snapshot.meta.revision;
    if (newer) this.#snapshot = snapshot;
    const added = this.#timeline.accept(snapshot.timeline_events);
    const latestChanged = snapshot.latest_status ? this.#timeline.acceptLatest(snapshot.latest_status) : false;
    this.#changed({ added, latestChanged, snapshotChanged: newer });
    this.#checkHole();
  }

  #checkHole(): void {
    if (!this.#timeline.hasHole || this.#filling || this.#fillTimer !== undefined) return;
    // A tab fed by another may be waiting for the leader's answer to its hello, which fills
    // the hole anyway; give it a moment before reading the history itself.
    if (this.holdsConnection) this.#fill(false);
    else this.#fillTimer = setTimeout(() => this.#fill(false), 1_000);
  }

  /**
   * Reads what lies between the head and the entries held back from the history API (one
   * read at a time; a hole seen meanwhile asks for another round). `always` reads even
   * without a hole (the serverless catch-up after a connect). A failed read is retried with
   * the back-off while the hole remains.
   */
  #fill(always: boolean): void {
    if (this.closed) return;
    if (this.#filling) {
      this.#fillAgain = true;
      return;
    }
    clearTimeout(this.#fillTimer);
    this.#fillTimer = undefined;
    if (!always && !this.#timeline.hasHole) return;
    this.#filling = true;
    void (async () => {
      try {
        do {
          this.#fillAgain = false;
          await this.#readHistory();
        } while (this.#fillAgain && !this.closed);
        this.#fillFailures = 0;
      } catch (error) {
        if (this.closed) return;
        this.#fillFailures++;
        this.#options.log?.('warn', `could not read missed events of ${this.jobId}: ${asStatuscastError(error).message}`);
        this.#fillTimer = setTimeout(() => this.#fill(always), reconnectDelay(Math.max(2, this.#fillFailures)));
      } finally {
        this.#filling = false;
      }
    })();
  }

  async #readHistory(): Promise<void> {
    for (;;) {
      const after = this.#timeline.head;
      const page = await this.#api.history(this.jobId, after);
      if (this.closed) return;
      const entries = page.events.map(entryOfAuditEvent).filter((entry): entry is TimelineEntry => entry !== null);
      const added = this.#timeline.accept(entries);
      if (added.length > 0) this.#changed({ added });
      const last = page.events[page.events.length - 1];
      if (!last || page.head_revision === null || last.revision >= page.head_revision) return;
      // A page that did not move the head would be read again and again.
      if (this.#timeline.head === after) return;
    }
  }

  #changed(change: { added?: readonly TimelineEntry[]; latestChanged?: boolean; snapshotChanged?: boolean }): void {
    const added = change.added ?? [];
    const previous = this.state;
    const latest = this.#timeline.latest;
    const connection = this.connectionState;
    const latestChanged = latest !== previous.latest;
    const snapshotChanged = change.snapshotChanged ?? false;
    const connectionChanged = connection !== previous.connection;
    if (added.length === 0 && !latestChanged && !snapshotChanged && !connectionChanged) return;
    this.publish(
      {
        jobId: this.jobId,
        snapshot: this.#snapshot,
        timeline: this.#timeline.entries,
        latest,
        terminal: latest !== null && TERMINAL_STATES.has(latest.state),
        connection,
      },
      { added, latestChanged, snapshotChanged, connectionChanged },
    );
    if (added.length > 0 || latestChanged || snapshotChanged || connectionChanged) {
      this.broadcast({ entries: added, latest, snapshot: snapshotChanged ? this.#snapshot : null });
    }
  }
}
