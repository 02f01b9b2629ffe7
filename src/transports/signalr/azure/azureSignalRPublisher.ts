import type { Logger } from 'pino';
import type { GlobalPosition } from '../../../store/position.ts';
import type { LiveEvent, LiveFeed, Subscription } from '../../liveFeed/types.ts';
import { type FeedScope, groupsOfEvent } from '../../streamAccess.ts';
import type { AzureSignalRMetrics } from './azureSignalRMetrics.ts';
import { GroupLanes } from './groupLanes.ts';
import type { AzureSignalRRest } from './restClient.ts';
import { type RetryPolicy, SEND_RETRY, withRetries } from './retryPolicy.ts';
import { throttledWarning } from './throttledWarning.ts';

export interface AzureSignalRPublisherOptions {
  readonly liveFeed: LiveFeed;
  readonly rest: AzureSignalRRest;
  readonly logger: Logger;
  readonly metrics: AzureSignalRMetrics;
  /** REST sends in flight at once (each to a different group). Defaults to 8. */
  readonly maxConcurrentSends?: number;
  /** Sends waiting, in all groups, before the oldest is dropped (and counted). Defaults to 10,000. */
  readonly maxQueuedSends?: number;
  /** Defaults to `SEND_RETRY` (6 attempts, 200 ms doubling to 10 s, full jitter). */
  readonly retry?: RetryPolicy;
  /** How long `stop()` lets queued sends drain before abandoning them. Defaults to 2 s. */
  readonly stopTimeoutMs?: number;
}

export interface AzureSignalRPublisher {
  /**
   * Follows the live feed from now on, or strictly after `resumeAfter` (where the previous
   * publisher of the deployment got to, when one node publishes for all).
   */
  start(resumeAfter?: GlobalPosition | null): Promise<void>;
  /**
   * Stops following, drains for up to `drainMs` (default `stopTimeoutMs`), then abandons the
   * rest (counted).
   */
  stop(drainMs?: number): Promise<void>;
  /** Resolves once nothing waits and nothing is in flight (for tests and shutdown). */
  idle(): Promise<void>;
  /**
   * The position up to which every event's sends have ended (sent, or given up after their
   * retries, or dropped): where another publisher resumes without skipping anything this one
   * has not finished. `null` before the first event.
   */
  progress(): GlobalPosition | null;
}

/**
 * The largest REST request body sent: the service refuses a request over 1 MB (413) and
 * delivers nothing of it. Counted in UTF-8 bytes, with room to spare for the 1 MB vs 1 MiB
 * reading of the limit.
 */
export const MAX_SEND_BYTES = 1_000_000;

interface GroupSend {
  readonly group: string;
  readonly target: 'timeline.event' | 'status.latest' | 'timeline.ref';
  readonly body: string;
  readonly event: LiveEvent;
}

/** The publisher forwards every job's events; the service's groups decide who gets them. */
const EVERY_JOB: FeedScope = { kind: 'all' };

/**
 * Forwards every `StatusReported` to Azure SignalR Service through its REST API (contract §5):
 * `timeline.event` then `status.latest` to the job's group `job:<job_id>:user:<owner>` and to
 * the owner's group `user:<owner>`, with the same argument JSON as the embedded hub (the
 * `user:` group's `timeline.event` carries the store `position`, as the hub's feed does).
 * Bodies are built once per event and shared by both groups.
 *
 * Ingest never waits for it: events are queued in memory, one ordered lane per group (a
 * group's next send starts after the previous one ended, so each group receives its
 * messages in revision order, `timeline.event` before `status.latest`), with at most
 * `maxConcurrentSends` groups in flight. Answers above 500, timeouts and connections that
 * never opened are retried with exponential backoff and jitter; a 500 (possibly delivered
 * inside the service) and a 429 (quota) are not, as the official SDK does not (see
 * `restClient.ts`); when the queue is full the oldest send is dropped. A send
 * that is dropped or fails leaves a hole that clients repair by revision
 * (`GET /jobs/{id}/history?after=r`). Failures are counted and logged (throttled; no tokens).
 */
export function createAzureSignalRPublisher(options: AzureSignalRPublisherOptions): AzureSignalRPublisher {
  const { liveFeed, rest, logger, metrics } = options;
  const retry = options.retry ?? SEND_RETRY;
  const stopTimeoutMs = options.stopTimeoutMs ?? 2_000;
  const stopping = new AbortController();
  const warnFailed = throttledWarning(logger, 'Azure SignalR send failed; clients will re-sync by revision');
  const warnDropped = throttledWarning(logger, 'Azure SignalR send queue full; dropped the oldest send');
  const warnReferenced = throttledWarning(logger, 'event too large for one Azure SignalR request; sent timeline.ref, clients read it from history');
  let subscription: Subscription | undefined;
  let lastPosition: LiveEvent['position'] | null = null;
  let stopped = false;
  const progress = new SendProgress();

  const lanes = new GroupLanes<GroupSend>({
    maxConcurrent: options.maxConcurrentSends ?? 8,
    maxQueued: options.maxQueuedSends ?? 10_000,
    run: deliver,
    dropped: (send) => {
      progress.ended(send.event);
      metrics.send('dropped');
      warnDropped({ group: send.group, target: send.target, job_id: send.event.jobId, revision: send.event.revision });
    },
    depth: (queued) => metrics.queued(queued),
  });

  async function deliver(send: GroupSend): Promise<void> {
    try {
      const outcome = await withRetries(() => rest.sendToGroup(send.group, send.body, stopping.signal), retry, stopping.signal, metrics.retry);
      if (outcome.kind === 'ok') {
        progress.ended(send.event);
        metrics.send('sent');
        metrics.delivered(send.target, send.event.recordedAtMs);
        return;
      }
      // Abandoned sends do not count as ended: whoever publishes next sends them again.
      if (stopping.signal.aborted) {
        metrics.send('abandoned');
        return;
      }
      progress.ended(send.event);
      metrics.send(outcome.kind === 'rejected' ? 'rejected' : 'failed');
      warnFailed({
        group: send.group,
        target: send.target,
        job_id: send.event.jobId,
        revision: send.event.revision,
        status: outcome.status,
        attempts: outcome.attempts,
        detail: outcome.detail,
      });
    } catch (error) {
      // Not expected (the REST client returns outcomes); never let one send stop its lane.
      progress.ended(send.event);
      metrics.send('failed');
      logger.error({ err: error, group: send.group }, 'Azure SignalR send crashed');
    }
  }

  function publish(event: LiveEvent): void {
    if (stopped) return;
    lastPosition = event.position;
    const latest = body('status.latest', event.statusLatestJson);
    // The feed form of the embedded hub (`feedLiveFrame`): the argument plus its store position.
    const withPosition = `${event.timelineEventJson.slice(0, -1)},"position":${JSON.stringify(event.positionText)}}`;
    const { job: jobGroup, user: userGroup } = groupsOfEvent(event.jobId, event.owner);
    const sends = [
      ...sendsOf(jobGroup, body('timeline.event', event.timelineEventJson), latest, event, false),
      ...sendsOf(userGroup, body('timeline.event', withPosition), latest, event, true),
    ];
    // Counted before the first send starts, so that the saved progress never passes this event early.
    progress.published(event, sends.length);
    for (const send of sends) lanes.push(send);
  }

  /**
   * The sends of one event to one group. An event whose message would pass the service's 1 MB
   * request limit is not sent (the service would refuse it, and the hole would show only at
   * the next event): the group gets `timeline.ref` `{ job_id, revision }` (plus `position` on
   * the owner's group) instead, and a client reads the event from
   * `GET /jobs/{id}/history?after=<revision − 1>` at once. An oversized `status.latest` is left
   * out; the history read brings the status too.
   */
  function sendsOf(group: string, timelineBody: string, latestBody: string, event: LiveEvent, withPosition: boolean): GroupSend[] {
    const tooLarge = Buffer.byteLength(timelineBody) > MAX_SEND_BYTES || Buffer.byteLength(latestBody) > MAX_SEND_BYTES;
    if (!tooLarge) {
      return [
        { group, target: 'timeline.event', body: timelineBody, event },
        { group, target: 'status.latest', body: latestBody, event },
      ];
    }
    const reference = { job_id: event.jobId, revision: event.revision, ...(withPosition && { position: event.positionText }) };
    metrics.send('referenced');
    warnReferenced({ group, job_id: event.jobId, revision: event.revision, bytes: Buffer.byteLength(timelineBody) });
    return [{ group, target: 'timeline.ref', body: body('timeline.ref', JSON.stringify(reference)), event }];
  }

  async function follow(): Promise<void> {
    // From the last event seen when resuming after an unexpected close, so nothing is skipped.
    subscription = await liveFeed.subscribeFeed(EVERY_JOB, lastPosition, {
      catchUp: (events) => guarded(() => events.forEach(publish)),
      live: (event) => guarded(() => publish(event)),
      closed: (reason) => {
        if (stopped) return;
        logger.warn({ reason }, 'live feed closed the Azure SignalR publisher; following again');
        if (reason === 'too-far-behind') lastPosition = null;
        follow().catch((error: unknown) => logger.error({ err: error }, 'Azure SignalR publisher could not follow the live feed'));
      },
    });
  }

  /** The live feed closes a subscriber whose sink throws; this one must never be closed that way. */
  function guarded(work: () => void): void {
    try {
      work();
    } catch (error) {
      logger.error({ err: error }, 'Azure SignalR publisher failed to queue an event');
    }
  }

  return {
    async start(resumeAfter) {
      lastPosition = resumeAfter ?? null;
      progress.startAfter(lastPosition);
      await follow();
      logger.info('Azure SignalR publisher follows the live feed');
    },
    async stop(drainMs = stopTimeoutMs) {
      if (stopped) return lanes.idle();
      stopped = true;
      subscription?.close();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([lanes.idle(), new Promise((resolve) => (timer = setTimeout(resolve, drainMs)))]);
      clearTimeout(timer);
      const abandoned = lanes.clear().length;
      if (abandoned > 0) {
        metrics.send('abandoned', abandoned);
        logger.warn({ abandoned }, 'Azure SignalR publisher stopped with sends still queued');
      }
      // Ends in-flight attempts and backoff waits; they count themselves as abandoned.
      stopping.abort();
      await lanes.idle();
    },
    idle: () => lanes.idle(),
    progress: () => progress.position,
  };
}

/** Tracks which events still have sends in flight, to know how far everything has ended. */
class SendProgress {
  readonly #left = new Map<LiveEvent, number>();
  #order: LiveEvent[] = [];
  #head = 0;
  #position: GlobalPosition | null = null;

  get position(): GlobalPosition | null {
    return this.#position;
  }

  startAfter(position: GlobalPosition | null): void {
    this.#position = position;
  }

  published(event: LiveEvent, sends: number): void {
    this.#left.set(event, sends);
    this.#order.push(event);
  }

  ended(event: LiveEvent): void {
    const left = (this.#left.get(event) ?? 1) - 1;
    if (left > 0) {
      this.#left.set(event, left);
      return;
    }
    this.#left.delete(event);
    while (this.#head < this.#order.length && !this.#left.has(this.#order[this.#head]!)) {
      this.#position = this.#order[this.#head]!.position;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** `{"target":…,"arguments":[<argument>]}`: the REST send body around an already serialized argument. */
function body(target: string, argumentJson: string): string {
  return `{"target":${JSON.stringify(target)},"arguments":[${argumentJson}]}`;
}
