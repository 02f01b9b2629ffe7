import type { IncomingMessage, ServerResponse } from 'node:http';
import { type EventBuffer, NodeHttp1Connection, createSession } from 'better-sse';
import type { Logger } from 'pino';
import type { Principal } from '../../auth/principal.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { GlobalPosition } from '../../store/position.ts';
import type { CloseReason, LiveEvent, LiveFeed, Subscription } from '../liveFeed/types.ts';
import type { FeedScope } from '../streamAccess.ts';
import { type QuotaLease, UserQuota } from '../userQuota.ts';
import { TooManyRequestsError } from '../../errors.ts';
import { deliveryMetrics } from './deliveryMetrics.ts';
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
  /** Per-user bounds shared with the hub; a stream past them is refused with 429. Defaults to an unshared `UserQuota`. */
  readonly quota?: UserQuota;
}

export interface SseTransport {
  /** Streams one job: one `timeline.bulk` after `afterRevision`, then live events. */
  streamJob(
    req: IncomingMessage,
    res: ServerResponse,
    request: { principal: Principal; jobId: string; afterRevision: number | null },
  ): Promise<void>;
  /** Streams a multi-job feed (`scope`, from the stream-access policy) strictly after `after` (`null`: from now). */
  streamFeed(
    req: IncomingMessage,
    res: ServerResponse,
    request: { principal: Principal; scope: FeedScope; after: GlobalPosition | null },
  ): Promise<void>;
  /** Open SSE connections. */
  readonly connectionCount: number;
}

const TRANSPORT = 'sse';
const EXPIRY_SWEEP_MS = 1000;

/** Whether the client of `res` is already gone (it may vanish during auth or the catch-up read). */
function isGone(res: ServerResponse): boolean {
  return res.closed || res.destroyed || res.socket === null || res.socket.destroyed;
}

/**
 * The plain Server-Sent-Events fallback (contract §6), built on better-sse sessions.
 * Frames are prepared once per event (see `sseFrames.ts`) and written to each connection
 * in one chunk. One timer sends every stream's heartbeat (better-sse's per-session timer is
 * off: it would also outlive a client that left before the session started).
 */
export function createSseTransport(options: SseTransportOptions): SseTransport {
  const { liveFeed, logger, metrics } = options;
  const maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const connections = metrics.connections.labels(TRANSPORT);
  const deliveries = deliveryMetrics(metrics, TRANSPORT);
  const sentBulk = metrics.messagesSent.labels(TRANSPORT, 'timeline.bulk');
  const slowCloses = metrics.slowConsumerCloses.labels(TRANSPORT);
  const streams = new Set<Stream>();
  const quota = options.quota ?? new UserQuota();
  let heartbeat: NodeJS.Timeout | undefined;
  const HEARTBEAT = Buffer.from(':\n\n');

  function beat(): void {
    for (const stream of streams) stream.write(HEARTBEAT);
  }

  /**
   * Streams whose token expires, and one timer for all of them (not a timer per stream):
   * each second it ends the streams whose token has expired, so a stream outlives its
   * token by less than a second.
   */
  const expiring = new Map<Stream, number>();
  let expirySweep: NodeJS.Timeout | undefined;

  function sweepExpired(): void {
    const now = Date.now();
    for (const [stream, expiresAt] of expiring) if (expiresAt <= now) stream.end();
  }

  function expireAt(stream: Stream, expiresAt: number): void {
    expiring.set(stream, expiresAt);
    expirySweep ??= setInterval(sweepExpired, EXPIRY_SWEEP_MS).unref();
  }

  function forgetExpiry(stream: Stream): void {
    if (!expiring.delete(stream) || expiring.size > 0) return;
    clearInterval(expirySweep);
    expirySweep = undefined;
  }

  /**
   * One open event stream and everything that must be undone when it ends. It is torn down
   * by whichever comes first: the socket closing (at any moment, even before the stream
   * opened), the token expiring, the live feed giving up, or shutdown.
   */
  class Stream {
    #subscription: Subscription | undefined;
    #ended = false;
    #open = false;
    /**
     * Aborted when the stream ends, so a catch-up read in progress stops early. Let go once
     * the stream follows its subscription (closing that ends it then): an idle stream keeps
     * no controller, signal and listener.
     */
    #abort: AbortController | undefined = new AbortController();

    constructor(
      private readonly res: ServerResponse,
      principal: Principal,
      private readonly leases: readonly QuotaLease[],
    ) {
      streams.add(this);
      connections.inc();
      heartbeat ??= setInterval(beat, heartbeatMs).unref();
      res.once('close', () => this.#cleanup());
      if (principal.expiresAt) {
        // The client re-negotiates for a fresh token when its stream ends (contract §2).
        expireAt(this, principal.expiresAt.getTime());
      }
      if (isGone(res)) this.#cleanup();
    }

    get signal(): AbortSignal | undefined {
      return this.#abort?.signal;
    }

    get ended(): boolean {
      return this.#ended;
    }

    /**
     * better-sse writes the head and `retry:`; then the session is let go. Every later frame
     * arrives encoded and goes to the response directly, so an idle stream keeps no session
     * (a Fetch Request, Response, Headers and URL, an EventBuffer and their closures: ~8 KiB
     * each, `bench/probes/sseSessionMemory.ts`). The body is close-delimited rather than
     * chunked (`Connection: close`): a stream only ends with its connection anyway, and each
     * write is then one socket write instead of a corked chunk header, data and trailer.
     */
    async open(req: IncomingMessage): Promise<void> {
      if (this.#ended) return;
      this.res.useChunkedEncodingByDefault = false;
      const connection = new NodeHttp1Connection(req, this.res, {
        // better-sse defaults to `Connection: keep-alive`, which a close-delimited body must not claim.
        headers: { 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no', Connection: 'close' },
      });
      await createSession(connection, {
        retry: options.retryMs ?? 2000,
        keepAlive: null,
        // Resume points are parsed and validated by the route, not taken on trust here.
        trustClientEventId: false,
      });
      // Detaches the session's close listeners from req and res: nothing refers to it after this.
      connection.cleanup();
      this.#open = true;
      if (isGone(this.res)) this.#cleanup();
    }

    follow(subscription: Subscription): void {
      if (this.#ended) subscription.close();
      else this.#subscription = subscription;
      this.#abort = undefined;
    }

    write(frame: EventBuffer | Buffer): void {
      if (this.#ended || !this.#open) return;
      this.res.write(Buffer.isBuffer(frame) ? frame : frame.read());
      if (this.res.writableLength > maxBuffered) {
        slowCloses.inc();
        logger.info({ transport: TRANSPORT, buffered: this.res.writableLength }, 'closing a slow SSE consumer');
        this.end();
      }
    }

    live(event: LiveEvent, frame: Buffer): void {
      if (this.#ended) return;
      this.write(frame);
      deliveries.delivered(event);
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
      streams.delete(this);
      if (streams.size === 0) {
        clearInterval(heartbeat);
        heartbeat = undefined;
      }
      connections.dec();
      for (const lease of this.leases) lease.release();
      forgetExpiry(this);
      this.#abort?.abort();
      this.#subscription?.close();
    }
  }

  /** Opens a stream within the user's quota (one connection, one subscription); 429 past it. */
  async function openStream(req: IncomingMessage, res: ServerResponse, principal: Principal): Promise<Stream> {
    const connection = quota.openConnection(principal.userId);
    if (connection === null) {
      throw new TooManyRequestsError(`You hold ${quota.limits.maxConnectionsPerUser} open connections, the most one user may on this server; close one first.`);
    }
    const subscription = quota.addSubscription(principal.userId);
    if (subscription === null) {
      connection.release();
      throw new TooManyRequestsError(`You hold ${quota.limits.maxSubscriptionsPerUser} live subscriptions, the most one user may on this server; close one first.`);
    }
    const stream = new Stream(res, principal, [connection, subscription]);
    await stream.open(req);
    return stream;
  }

  return {
    get connectionCount() {
      return streams.size;
    },

    async streamJob(req, res, { principal, jobId, afterRevision }) {
      const stream = await openStream(req, res, principal);
      if (stream.ended) return;
      try {
        const subscription = await liveFeed.subscribeJob(
          jobId,
          afterRevision,
          {
            catchUp(catchUp) {
              stream.write(jobBulkFrame(catchUp));
              sentBulk.inc();
            },
            live: (event) => stream.live(event, jobEventFrame(event)),
            closed: (reason) => stream.closed(reason),
          },
          stream.signal,
        );
        stream.follow(subscription);
      } catch (error) {
        logger.error({ err: error, job_id: jobId }, 'SSE catch-up failed; ending the stream');
        stream.end();
      }
    },

    async streamFeed(req, res, { principal, scope, after }) {
      const stream = await openStream(req, res, principal);
      if (stream.ended) return;
      try {
        const subscription = await liveFeed.subscribeFeed(
          scope,
          after,
          {
            catchUp(events, head) {
              for (const event of events) stream.live(event, feedEventFrame(event));
              if (head) stream.write(positionFrame(head));
            },
            live: (event) => stream.live(event, feedEventFrame(event)),
            closed: (reason) => stream.closed(reason),
          },
          stream.signal,
        );
        stream.follow(subscription);
      } catch (error) {
        logger.error({ err: error }, 'SSE feed catch-up failed; ending the stream');
        stream.end();
      }
    },
  };
}
