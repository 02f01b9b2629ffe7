import { type LinkState, type LostReason, type StreamCredentials } from './streamLink.ts';
import { followSse, withQuery } from './sseFollower.ts';
import type { HistoryPage, JobNegotiation, LatestStatus, TimelineBulkMessage, TimelineEntry, TimelineEventMessage } from './wire.ts';

/** Where a job stream delivers, whichever transport carries it. */
export interface JobStreamSink {
  /** A bulk or one live entry; may overlap what the page has (the model de-duplicates). */
  entries(entries: readonly TimelineEntry[]): void;
  latest(status: LatestStatus): void;
  link(state: LinkState): void;
  lost(reason: LostReason, message: string): void;
}

export interface JobStreamOptions {
  readonly jobId: string;
  readonly credentials: StreamCredentials<JobNegotiation>;
  /** The revision the page has everything up to; every (re)subscription resumes after it. */
  resumeAfter(): number;
  /** Reads the job's raw stream after a revision (catch-up where the hub takes no Subscribe). */
  history(after: number): Promise<HistoryPage>;
  readonly sink: JobStreamSink;
}

export interface JobStream {
  readonly kind: 'signalr' | 'sse';
  /** Resolves once live; rejects when the transport cannot start at all. */
  start(): Promise<void>;
  retry(): void;
  stop(): void;
}

/** The SSE fallback (contract §6): `sse_url` with `?after=<revision>`. */
export function createSseJobStream(options: JobStreamOptions, note?: string): JobStream {
  const { jobId, sink } = options;
  const follower = followSse({
    credentials: options.credentials,
    url: (grant) => withQuery(grant.sse_url, 'after', String(options.resumeAfter())),
    events: {
      'timeline.bulk': (data) => {
        const message = data as TimelineBulkMessage;
        if (message.job_id === jobId && Array.isArray(message.events)) sink.entries(message.events);
      },
      'timeline.event': (data) => {
        const message = data as TimelineEventMessage;
        if (message.job_id === jobId && message.event) sink.entries([message.event]);
      },
      'status.latest': (data) => {
        const status = data as LatestStatus;
        if (status.job_id === jobId) sink.latest(status);
      },
    },
    link: (state) => sink.link(state),
    lost: (reason, message) => sink.lost(reason, message),
    ...(note !== undefined && { note }),
  });
  return {
    kind: 'sse',
    async start() {
      follower.start();
    },
    retry: () => follower.retry(),
    stop: () => follower.stop(),
  };
}
