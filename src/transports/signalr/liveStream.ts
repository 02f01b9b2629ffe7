import type { Logger } from 'pino';
import type { Principal } from '../../auth/principal.ts';
import type { CloseReason, JobCatchUp, JobSink, LiveEvent, Subscription } from '../liveFeed/types.ts';
import type { HubConnectionContext, OutgoingFrame } from '@statuscast/signalr-server';
import type { SignalRMetrics } from './signalrMetrics.ts';
import { jobBulkFrame } from './statusFrames.ts';

/**
 * One subscription of one connection (a job, or the feed), as the live feed's sink sees it.
 * The catch-up goes out as soon as it arrives; live events that follow are held until the
 * subscribing invocation's Completion has been written (`release`), so a client always sees
 * bulk → Completion → live, whatever the timing of the feed.
 */
export class LiveStream {
  private held: LiveEvent[] | null = [];
  private subscription: Subscription | null = null;
  private ended = false;
  /** Set when the feed closed the stream before its catch-up (SubscribeFeed reports it). */
  earlyCloseReason: CloseReason | null = null;
  private caughtUp = false;
  /**
   * Aborted when the stream ends, so that a catch-up read in progress stops early. Dropped
   * once the subscription is attached (its `close` does the job from then on): an idle
   * connection holds no controller, signal or listener.
   */
  private abort: AbortController | null = new AbortController();

  constructor(
    private readonly connection: HubConnectionContext<Principal>,
    private readonly frameOf: (event: LiveEvent) => OutgoingFrame,
    private readonly metrics: SignalRMetrics,
    private readonly logger: Logger,
    private readonly onEnded: (stream: LiveStream) => void,
  ) {}

  get isEnded(): boolean {
    return this.ended;
  }

  /** For the subscribe call, made before `attach`. */
  get signal(): AbortSignal {
    if (this.ended) return AbortSignal.abort();
    return (this.abort ??= new AbortController()).signal;
  }

  sendCatchUp(frame: OutgoingFrame | null): void {
    this.caughtUp = true;
    if (frame !== null && !this.ended) this.connection.send(frame);
  }

  live(event: LiveEvent): void {
    if (this.ended) return;
    if (this.held !== null) {
      this.held.push(event);
      return;
    }
    this.connection.send(this.frameOf(event));
    this.metrics.observeLatency(this.connection.transport, event);
  }

  /** The subscribing invocation completed: deliver what was held and go live. */
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const event of held) this.live(event);
  }

  /** The live feed gave up on this subscriber. */
  closed(reason: CloseReason): void {
    if (this.ended) return;
    if (!this.caughtUp && reason === 'too-far-behind') {
      this.earlyCloseReason = reason;
      this.end();
      return;
    }
    this.end();
    // Nothing tells a client that one subscription stopped, so the connection goes: the
    // client reconnects and resumes by revision (or position) with no gap.
    this.logger.info({ reason, connectionId: this.connection.connectionId }, 'live feed closed a SignalR subscription');
    this.connection.close({ error: `Live updates stopped (${reason}); reconnect and resume.`, allowReconnect: true });
  }

  /** Hands over the live-feed subscription; closes it at once if the stream already ended. */
  attach(subscription: Subscription): void {
    if (this.ended) subscription.close();
    else {
      this.subscription = subscription;
      this.abort = null;
    }
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.held = null;
    this.abort?.abort();
    this.abort = null;
    this.subscription?.close();
    this.subscription = null;
    this.onEnded(this);
  }
}

/**
 * A job's stream is its own live-feed sink (no sink object and closures per subscription):
 * each catch-up page goes out as one `timeline.bulk`, and `revision` is where it reached.
 */
export class JobLiveStream extends LiveStream implements JobSink {
  revision = 0;

  catchUp(catchUp: JobCatchUp): void {
    this.revision = catchUp.toRevision;
    this.sendCatchUp(jobBulkFrame(catchUp));
  }
}
