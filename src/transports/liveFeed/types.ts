import type { LatestStatus, TimelineEntry } from '../../domain/job/timeline.ts';
import type { GlobalPosition } from '../../store/position.ts';
import type { FeedScope } from '../streamAccess.ts';

/** W3C trace context carried from ingest to every client (contract §5). */
export interface TraceContext {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/**
 * One `StatusReported` event, prepared once for every transport and every client.
 * The JSON texts are the exact `timeline.event` / `status.latest` arguments of the contract;
 * transports wrap them in their own framing and memoize the framed bytes per event (a
 * `WeakMap` keyed by the event) so that a frame is built once per event, not once per connection.
 */
export interface LiveEvent {
  readonly jobId: string;
  readonly owner: string;
  readonly revision: number;
  readonly position: GlobalPosition;
  /** Wire form of `position`. */
  readonly positionText: string;
  readonly entry: TimelineEntry;
  readonly latest: LatestStatus;
  readonly trace: TraceContext | undefined;
  /** `{ job_id, event, trace? }`, the `timeline.event` argument. */
  readonly timelineEventJson: string;
  /** `{ ...latest, trace? }`, the `status.latest` argument. */
  readonly statusLatestJson: string;
  /** When the store recorded the event (ms since epoch), for append→send latency. */
  readonly recordedAtMs: number;
}

/** Timeline entries in one catch-up page (one `timeline.bulk` frame), from the store or the tail cache. */
export const MAX_CATCH_UP_PAGE = 500;

/**
 * One page of the handoff from catch-up to live. A catch-up is one or more pages in
 * revision order (at most `MAX_CATCH_UP_PAGE` entries each, so no frame and no read grows
 * with the length of a job's history); the first may be empty.
 */
export interface JobCatchUp {
  readonly jobId: string;
  /** Timeline entries of this page, in order (possibly empty). */
  readonly events: readonly LiveEvent[];
  /** The first revision this page covers: the previous page's `toRevision + 1` (`after + 1` for the first). */
  readonly fromRevision: number;
  /** The head this page reached: its last revision, or `fromRevision - 1` when empty. */
  readonly toRevision: number;
}

/**
 * Why the feed stopped delivering to a subscriber. In every case the client may resume
 * (by revision or position) on a new connection:
 * - `slow-consumer`: it fell too far behind while catching up;
 * - `too-far-behind`: a feed resume point is so old that the client should reload its
 *   list (`GET /jobs`) and follow from the position that returns;
 * - `out-of-sync`: a revision was missing from the live sequence (never expected; the
 *   client resumes and the catch-up read fills the hole);
 * - `delivery-failed`: the transport threw while delivering (its connection is closed so
 *   that the client resumes instead of waiting on a stream that carries nothing);
 * - `shutdown`: the server is stopping.
 */
export type CloseReason = 'slow-consumer' | 'too-far-behind' | 'out-of-sync' | 'delivery-failed' | 'shutdown';

/**
 * Receives one job's events. Called synchronously, in revision order, exactly once per
 * revision: `catchUp` first (one or more pages), then `live` for every later revision.
 */
export interface JobSink {
  catchUp(catchUp: JobCatchUp): void;
  live(event: LiveEvent): void;
  /** The feed gave up on this subscriber; the client should resume by revision. */
  closed(reason: CloseReason): void;
}

/** Receives a multi-job feed in store-position order. */
export interface FeedSink {
  /**
   * Events after the resume position, in position order, delivered before any live one:
   * one or more pages, each with the position the scan reached (`null` only for an empty store).
   */
  catchUp(events: readonly LiveEvent[], head: GlobalPosition | null): void;
  live(event: LiveEvent): void;
  closed(reason: CloseReason): void;
}

export interface Subscription {
  /** Stops delivery; idempotent. */
  close(): void;
}

export interface LiveFeed {
  /**
   * Follows one job after `afterRevision` (`null`: its whole timeline) with no gap and no
   * duplicate, even while appends race with the catch-up read. Resolves once `catchUp`
   * has been delivered. The caller authorizes first (see the stream-access policy).
   * Aborting `signal` (the client went away) closes the subscription, even mid catch-up.
   */
  subscribeJob(jobId: string, afterRevision: number | null, sink: JobSink, signal?: AbortSignal): Promise<Subscription>;

  /**
   * Follows the jobs of `scope` (see the stream-access policy) strictly after `after`
   * (`null`: from now on). A resume point further back than the feed will scan is closed
   * with `too-far-behind` before any catch-up.
   */
  subscribeFeed(scope: FeedScope, after: GlobalPosition | null, sink: FeedSink, signal?: AbortSignal): Promise<Subscription>;

  /** Number of live subscriptions, for metrics. */
  readonly subscriberCount: number;
}
