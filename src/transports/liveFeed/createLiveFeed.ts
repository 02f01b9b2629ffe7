import type { Logger } from 'pino';
import { JOB_STREAM_PREFIX, jobStreamName } from '../../domain/job/events.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { asJobEvent } from '../../store/asJobEvent.ts';
import type { AllSubscription, EventStore } from '../../store/eventStore.ts';
import type { JobDirectory } from '../../store/jobDirectory.ts';
import type { GlobalPosition } from '../../store/position.ts';
import { FeedSubscriber } from './feedSubscriber.ts';
import { JobSubscriber } from './jobSubscriber.ts';
import { DEFAULT_TAIL_CACHE_LIMITS, JobTailCache, type JobTailCacheLimits } from './jobTailCache.ts';
import { toLiveEvent } from './toLiveEvent.ts';
import type { JobSink, LiveEvent, LiveFeed, Subscription } from './types.ts';

export interface LiveFeedOptions {
  readonly store: EventStore;
  readonly directory: JobDirectory;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Live events buffered per subscriber while its catch-up read runs. Defaults to 10,000. */
  readonly maxPendingPerSubscriber?: number;
  /**
   * Events a feed resume may scan before the client is told to reload its list instead
   * (`too-far-behind`). Defaults to 50,000.
   */
  readonly maxFeedCatchUpScan?: number;
  /** Bounds of the in-memory tail of watched jobs that resuming clients catch up from. */
  readonly tailCache?: JobTailCacheLimits;
}

export interface RunningLiveFeed extends LiveFeed {
  /** Subscribes to the store from its head; resolves once live. */
  start(): Promise<void>;
  /** Closes every subscriber with `shutdown` and stops following the store. */
  stop(): Promise<void>;
  /** Position of the last event the feed dispatched (or the head it started from). */
  readonly position: GlobalPosition | null;
}

const FILTER = { streamNamePrefixes: [JOB_STREAM_PREFIX] };
const RESUBSCRIBE_DELAY_MS = 500;

/**
 * The process's one subscription to the store, fanned out to every transport: each new
 * `StatusReported` is prepared once and offered to the subscribers of its job and to the
 * feeds that can see it.
 */
export function createLiveFeed(options: LiveFeedOptions): RunningLiveFeed {
  const { store, directory, logger, metrics } = options;
  const maxPending = options.maxPendingPerSubscriber ?? 10_000;
  const maxFeedScan = options.maxFeedCatchUpScan ?? 50_000;
  const jobSubscribers = new Map<string, Set<JobSubscriber>>();
  const feedSubscribers = new Set<FeedSubscriber>();
  let count = 0;
  let position: GlobalPosition | null = null;
  let subscription: AllSubscription | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;
  const tailCache = new JobTailCache(
    (jobId, afterRevision, sink) => followJob(jobId, afterRevision, sink, { counted: false }),
    options.tailCache ?? DEFAULT_TAIL_CACHE_LIMITS,
    (events) => metrics?.liveTailCacheEvents.set(events),
  );

  function track(delta: number): void {
    count += delta;
    metrics?.liveSubscriptions.set(count);
  }

  function dispatch(event: LiveEvent): void {
    const subscribers = jobSubscribers.get(event.jobId);
    if (subscribers) for (const subscriber of subscribers) guarded(() => subscriber.offer(event), subscriber);
    for (const subscriber of feedSubscribers) guarded(() => subscriber.offer(event), subscriber);
  }

  /** A transport's failure must not stop delivery to everyone else. */
  function guarded(deliver: () => void, subscriber: JobSubscriber | FeedSubscriber): void {
    try {
      deliver();
    } catch (error) {
      logger.error({ err: error }, 'a live-feed subscriber failed; closing it');
      subscriber.close(null);
    }
  }

  async function follow(onLive: () => void): Promise<void> {
    while (!stopped) {
      subscription = store.subscribeToAll({ from: position ?? 'end', filter: FILTER });
      try {
        for await (const item of subscription) {
          if (item.kind === 'caughtUp') {
            position ??= item.position;
            onLive();
            continue;
          }
          if (item.kind === 'checkpoint') {
            position = item.position;
            continue;
          }
          position = item.event.position;
          const event = asJobEvent(item.event);
          if (event?.type === 'JobRegistered') directory.remember(event.data.job_id, event.data.user_id);
          const live = toLiveEvent(item.event);
          if (live) dispatch(live);
        }
      } catch (error) {
        if (stopped) return;
        logger.error({ err: error }, 'live feed lost its store subscription; resubscribing from its position');
        await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_DELAY_MS).unref());
      }
    }
  }

  /** Reads a job's events from the store; stops early once `abandoned` says nobody wants them. */
  async function readJob(jobId: string, fromRevision: number, abandoned: () => boolean): Promise<LiveEvent[]> {
    const events: LiveEvent[] = [];
    for await (const recorded of store.readStream(jobStreamName(jobId), { fromRevision })) {
      if (abandoned()) break;
      const live = toLiveEvent(recorded);
      if (live) events.push(live);
    }
    return events;
  }

  /**
   * Registers a subscriber, then catches it up: clients from the tail cache when it holds
   * their revision, from the store otherwise; the cache's own subscribers from the store.
   * Registering first means anything appended meanwhile is buffered, anything before is in
   * the catch-up, and revisions remove the overlap.
   */
  async function followJob(jobId: string, afterRevision: number, sink: JobSink, { counted }: { counted: boolean }): Promise<Subscription> {
    const subscriber = new JobSubscriber(jobId, afterRevision, sink, maxPending, (closed) => {
      const set = jobSubscribers.get(jobId);
      if (set?.delete(closed) && counted) track(-1);
      if (set?.size === 0) jobSubscribers.delete(jobId);
    });
    let set = jobSubscribers.get(jobId);
    if (!set) jobSubscribers.set(jobId, (set = new Set()));
    set.add(subscriber);
    if (counted) track(1);
    try {
      const from = afterRevision + 1;
      const cached = counted ? await tailCache.eventsFrom(jobId, from) : undefined;
      subscriber.finishCatchUp(cached ?? (await readJob(jobId, from, () => subscriber.isClosed)));
    } catch (error) {
      subscriber.close(null);
      throw error;
    }
    return { close: () => subscriber.close(null) };
  }

  return {
    get subscriberCount() {
      return count;
    },
    get position() {
      return position;
    },
    start() {
      return new Promise((resolve) => {
        running ??= follow(resolve);
      });
    },
    async stop() {
      stopped = true;
      for (const set of jobSubscribers.values()) for (const subscriber of [...set]) subscriber.close('shutdown');
      for (const subscriber of [...feedSubscribers]) subscriber.close('shutdown');
      await subscription?.close();
      await running;
    },

    subscribeJob(jobId, afterRevision, sink): Promise<Subscription> {
      return followJob(jobId, afterRevision ?? 0, sink, { counted: true });
    },

    async subscribeFeed(principal, after, sink): Promise<Subscription> {
      const subscriber = new FeedSubscriber(principal, sink, maxPending, (closed) => {
        if (feedSubscribers.delete(closed)) track(-1);
      });
      feedSubscribers.add(subscriber);
      track(1);
      if (after === null) {
        subscriber.finishCatchUp([], position);
        return { close: () => subscriber.close(null) };
      }
      try {
        const events: LiveEvent[] = [];
        let head: GlobalPosition = after;
        let scanned = 0;
        for await (const recorded of store.readAll({ after, filter: FILTER, maxCount: maxFeedScan + 1 })) {
          if (subscriber.isClosed) break;
          if (++scanned > maxFeedScan) {
            subscriber.close('too-far-behind');
            return { close: () => undefined };
          }
          head = recorded.position;
          const live = toLiveEvent(recorded);
          if (live && (subscriber.seesAll || live.owner === principal.userId)) events.push(live);
        }
        subscriber.finishCatchUp(events, head);
      } catch (error) {
        subscriber.close(null);
        throw error;
      }
      return { close: () => subscriber.close(null) };
    },
  };
}
