/**
 * The wire shapes of the statuscast API (docs/api-contract.md §4–§7) that the client reads.
 * Written out here so that the package depends on nothing of the server.
 */

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** States after which a job takes no further status (contract §3). */
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set<JobState>(['succeeded', 'failed', 'cancelled']);

/** One timeline entry (`timeline.event`'s `event`, `timeline.bulk`'s `events`, a snapshot's `timeline_events`). */
export interface TimelineEntry {
  readonly revision: number;
  readonly stage: string;
  readonly state: JobState;
  readonly artifact: string | null;
  readonly message: string | null;
  readonly cycle: number | null;
  readonly progress: number | null;
  readonly details: Readonly<Record<string, unknown>>;
  readonly ts: string;
}

/** `status.latest`, and `latest_status` in a snapshot and in `GET /jobs`. */
export interface LatestStatus extends TimelineEntry {
  readonly job_id: string;
}

export interface JobMeta {
  readonly stage_order: readonly string[] | null;
  readonly expected_cycles: number | null;
}

/** The history snapshot negotiate and `GET /jobs/{id}` return (contract §4). */
export interface JobSnapshot {
  readonly latest_status: LatestStatus | null;
  readonly timeline_events: readonly TimelineEntry[];
  readonly meta: JobMeta & {
    readonly owner: string;
    /** The last revision the snapshot includes. */
    readonly revision: number;
    readonly created_at: string | null;
  };
}

/** What negotiate grants (contract §4 and §10): where to connect, with which short-lived stream token. */
export interface StreamGrant {
  readonly url: string;
  readonly accessToken: string;
  readonly hub: string;
  readonly groups: readonly string[];
  /** Relative (or absolute) URL of the SSE stream, with the stream token in `access_token`. */
  readonly sse_url: string;
  readonly expires_at: string;
  /** Azure SignalR Service, serverless: no hub methods; catch up with `GET /jobs/{id}/history?after=`. */
  readonly serverless?: boolean;
}

/** `POST /jobs/{id}/signalr/negotiate`. */
export interface JobGrant extends StreamGrant {
  readonly history: JobSnapshot;
}

/** One raw event of `GET /jobs/{id}/history` (contract §7). */
export interface AuditEvent {
  readonly revision: number;
  readonly type: string;
  readonly data: Record<string, unknown>;
}

/** A page of `GET /jobs/{id}/history`. */
export interface HistoryPage {
  readonly head_revision: number | null;
  readonly next_after: number | null;
  readonly events: readonly AuditEvent[];
}

export interface JobSummary {
  readonly job_id: string;
  readonly owner: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly revision: number;
  readonly meta: JobMeta;
  readonly latest_status: LatestStatus | null;
}

/** `GET /jobs`. */
export interface JobPage {
  readonly jobs: readonly JobSummary[];
  readonly next_cursor: string | null;
  /** The store position the page reflects; the feed resumes after it. */
  readonly position: string | null;
}

/** `timeline.event` (on the feed it also carries the store `position`). */
export interface TimelineEventMessage {
  readonly job_id: string;
  readonly event: TimelineEntry;
  readonly position?: string;
}

/** `timeline.bulk`. */
export interface TimelineBulkMessage {
  readonly job_id: string;
  readonly events: readonly TimelineEntry[];
  readonly meta?: { readonly from_revision: number; readonly to_revision: number };
}
