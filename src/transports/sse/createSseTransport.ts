import type { IncomingMessage, ServerResponse } from 'node:http';
import { type EventBuffer, type Session, createSession } from 'better-sse';
import type { Logger } from 'pino';
import type { Principal } from '../../auth/principal.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { GlobalPosition } from '../../store/position.ts';
import type { CloseReason, LiveEvent, LiveFeed, Subscription } from '../liveFeed/types.ts';
import { feedEventFrame, feedResetFrame, jobBulkFrame, jobEventFrame, positionFrame } from './sseFrames.ts';

export interface SseTransportOptions {
  readonly liveFeed: LiveFeed;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Comment heartbeat interval. Defaults to 15 s (contract §6). */
  readonly heartbeatMs?: number;
  /** `retry:` sent on connect. Defaults to 2 s (contract §6). */
  readonly retryMs?: number;
  /**
   * Bytes a connection may have queued in its socket before it is closed as a slow
   * consumer (it resumes with `Last-Event-ID`). Defaults to 1 MiB.
   */
  readonly maxBufferedBytes?: number;
}

export interface SseTransport {
  /** Streams one job: one `timeline.bulk` after `afterRevision`, then live events. */
  streamJob(
    req: IncomingMessage,
    res: ServerResponse,
    request: { principal: Principal; jobId: string; afterRevision: number | null },
  ): Promise<void>;
  /** Streams the caller's multi-job feed strictly after `after` (`null`: from now). */
  streamFeed(
    req: IncomingMessage,
    res: ServerResponse,
    request: { principal: Principal; after: GlobalPosition | null },
  ): Promise<void>;
  /** Open SSE connections. */
  readonly connectionCount: number;
}

const TRANSPORT = 'sse';

/**
 * The plain Server-Sent-Events fallback (contract §6), built on better-sse sessions.
 * Frames are prepared once per event (see `sseFrames.ts`) and written to each connection
 * in one chunk.
 */
export function createSseTransport(options: SseTransportOptions): SseTransport {
  const { liveFeed, logger, metrics } = options;
  const maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  const connections = metrics.connections.labels(TRANSPORT);
  const latency = metrics.appendToSend.labels(TRANSPORT);
  const sentTimeline = metrics.messagesSent.labels(TRANSPORT, 'timeline.event');
  const sentLatest = metrics.messagesSent.labels(TRANSPORT, 'status.latest');
  const sentBulk = metrics.messagesSent.labels(TRANSPORT, 'timeline.bulk');
  const slowCloses = metrics.slowConsumerCloses.labels(TRANSPORT);
  let open = 0;

  /** One open event stream and everything that must be undone when it ends. */
  class Stream {
    #subscription: Subscription | undefined;
    #expiry: NodeJS.Timeout | undefined;
    #ended = false;

    constructor(
      private readonly session: Session,
      private readonly res: ServerResponse,
      principal: Principal,
    ) {
      open++;
      connections.inc();
      session.once('disconnected', () => this.#cleanup());
      if (principal.expiresAt) {
        // The client re-negotiates for a fresh token when its stream ends (contract §2).
        const remaining = Math.max(0, principal.expiresAt.getTime() - Date.now());
        this.#expiry = setTimeout(() => this.end(), Math.min(remaining, 2 ** 31 - 1));
      }
    }

    get ended(): boolean {
      return this.#ended;
    }

    follow(subscription: Subscription): void {
      if (this.#ended) subscription.close();
      else this.#subscription = subscription;
    }

    write(frame: EventBuffer | Buffer): void {
      if (this.#ended || !this.session.isConnected) return;
      // Shared live frames arrive encoded; better-sse would only turn them back into a
      // string for `res.write`, so they go to the response directly (same order, same stream).
      if (Buffer.isBuffer(frame)) this.res.write(frame);
      else void this.session.batch(frame);
      if (this.res.writableLength > maxBuffered) {
        slowCloses.inc();
        logger.info({ transport: TRANSPORT, buffered: this.res.writableLength }, 'closing a slow SSE consumer');
        this.end();
      }
    }

    live(event: LiveEvent, frame: Buffer): void {
      if (this.#ended) return;
      this.write(frame);
      sentTimeline.inc();
      sentLatest.inc();
      latency.observe((Date.now() - event.recordedAtMs) / 1000);
    }

    closed(reason: CloseReason): void {
      if (reason === 'too-far-behind') this.write(feedResetFrame(reason));
      this.end();
    }

    end(): void {
      if (this.#ended) return;
      this.#cleanup();
      this.res.end();
    }

    #cleanup(): void {
      if (this.#ended) return;
      this.#ended = true;
      open--;
      connections.dec();
      clearTimeout(this.#expiry);
      this.#subscription?.close();
    }
  }

  async function open_(req: IncomingMessage, res: ServerResponse, principal: Principal): Promise<Stream> {
    const session = await createSession(req, res, {
      retry: options.retryMs ?? 2000,
      keepAlive: options.heartbeatMs ?? 15_000,
      // Resume points are parsed and validated by the route, not taken on trust here.
      trustClientEventId: false,
      headers: { 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no', Connection: 'keep-alive' },
    });
    return new Stream(session, res, principal);
  }

  return {
    get connectionCount() {
      return open;
    },

    async streamJob(req, res, { principal, jobId, afterRevision }) {
      const stream = await open_(req, res, principal);
      try {
        const subscription = await liveFeed.subscribeJob(jobId, afterRevision, {
          catchUp(catchUp) {
            stream.write(jobBulkFrame(catchUp));
            sentBulk.inc();
          },
          live: (event) => stream.live(event, jobEventFrame(event)),
          closed: (reason) => stream.closed(reason),
        });
        stream.follow(subscription);
      } catch (error) {
        logger.error({ err: error, job_id: jobId }, 'SSE catch-up failed; ending the stream');
        stream.end();
      }
    },

    async streamFeed(req, res, { principal, after }) {
      const stream = await open_(req, res, principal);
      try {
        const subscription = await liveFeed.subscribeFeed(principal, after, {
          catchUp(events, head) {
            for (const event of events) stream.live(event, feedEventFrame(event));
            if (head) stream.write(positionFrame(head));
          },
          live: (event) => stream.live(event, feedEventFrame(event)),
          closed: (reason) => stream.closed(reason),
        });
        stream.follow(subscription);
      } catch (error) {
        logger.error({ err: error }, 'SSE feed catch-up failed; ending the stream');
        stream.end();
      }
    },
  };
}
