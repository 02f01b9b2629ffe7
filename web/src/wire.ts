/**
 * The wire shapes the page reads (contract §4–§6), written out here rather than imported
 * from `src/` so that the page's type check never pulls in Node code.
 */

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set<JobState>(['succeeded', 'failed', 'cancelled']);

/** One timeline entry (`timeline.event`'s `event`, `timeline.bulk`'s `events`, history). */
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

/** `status.latest`, and `latest_status` in history and in `GET /jobs`. */
export interface LatestStatus extends TimelineEntry {
  readonly job_id: string;
}

export interface JobMeta {
  readonly stage_order: readonly string[] | null;
  readonly expected_cycles: number | null;
}

/** The snapshot negotiate and `GET /jobs/{id}` return. */
export interface JobHistory {
  readonly latest_status: LatestStatus | null;
  readonly timeline_events: readonly TimelineEntry[];
  readonly meta: JobMeta & { readonly owner: string; readonly revision: number; readonly created_at: string | null };
}

/** `POST /jobs/{id}/signalr/negotiate`. */
export interface JobNegotiation {
  readonly url: string;
  readonly accessToken: string;
  readonly hub: string;
  readonly groups: readonly string[];
  /** Relative URL with the stream token in `access_token`. */
  readonly sse_url: string;
  readonly expires_at: string;
  /** Azure SignalR serverless: no hub methods; catch up with `GET /jobs/{id}/history?after=`. */
  readonly serverless?: boolean;
  readonly history: JobHistory;
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

/** `POST /signalr/negotiate` with no job: the caller's multi-job feed. */
export type FeedNegotiation = Omit<JobNegotiation, 'history'>;

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
  /** Store position the page reflects; follow `/events?after=<position>` from here. */
  readonly position: string | null;
}

/** `timeline.event`. */
export interface TimelineEventMessage {
  readonly job_id: string;
  readonly event: TimelineEntry;
}

/**
 * `timeline.ref` (Azure SignalR Service only): revision `revision` exists but was too large
 * for one request to the service; read it from `GET /jobs/{id}/history?after=<revision − 1>`.
 */
export interface TimelineRefMessage {
  readonly job_id: string;
  readonly revision: number;
  /** On the owner's `user:` group: the store position, as on the feed's `timeline.event`. */
  readonly position?: string;
}

/** `timeline.bulk`. */
export interface TimelineBulkMessage {
  readonly job_id: string;
  readonly events: readonly TimelineEntry[];
  readonly meta: { readonly from_revision: number; readonly to_revision: number };
}

/** `GET /config.json`, served by the web router. */
export interface PageConfig {
  readonly auth_mode: 'dev' | 'jwks';
  /** True when `POST /dev/tokens` exists (dev mode only). */
  readonly dev_sign_in: boolean;
}
