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
import { type JobSink, type LiveEvent, type LiveFeed, MAX_CATCH_UP_PAGE, type Subscription } from './types.ts';

export interface LiveFeedOptions {
  readonly store: EventStore;
  readonly directory: JobDirectory;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Live events buffered per subscriber while its catch-up read runs. Defaults to 10,000. */
  readonly maxPendingPerSubscriber?: number;
  /**
   * Events a feed resume may examine before the client is told to reload its list instead
   * (`too-far-behind`). The scan reads pages and yields to the event loop between them, so
   * a resume costs other requests nothing but its share of turns. Defaults to 10,000.
   */
  readonly maxFeedCatchUpScan?: number;
  /** Events read from the store per catch-up page (job or feed). Defaults to `MAX_CATCH_UP_PAGE`. */
  readonly catchUpPageSize?: number;
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

/** Closes `subscriber` when its client goes away (at once if it already has). */
function closeOnAbort(signal: AbortSignal | undefined, subscriber: { close(reason: null): void }): void {
  if (signal === undefined) return;
  if (signal.aborted) subscriber.close(null);
  else signal.addEventListener('abort', () => subscriber.close(null), { once: true });
}

/** Lets other requests run between pages of a long read. */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The process's one subscription to the store, fanned out to every transport: each new
 * `StatusReported` is prepared once and offered to the subscribers of its job and to the
 * feeds that can see it.
 */
export function createLiveFeed(options: LiveFeedOptions): RunningLiveFeed {
  const { store, directory, logger, metrics } = options;
  const maxPending = options.maxPendingPerSubscriber ?? 10_000;
  const maxFeedScan = options.maxFeedCatchUpScan ?? 10_000;
  const pageSize = options.catchUpPageSize ?? MAX_CATCH_UP_PAGE;
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
    if (subscribers) offerEach(subscribers, event);
    if (feedSubscribers.size > 0) offerEach(feedSubscribers, event);
  }

  /** Runs once per delivery: no closure or other allocation per subscriber. */
  function offerEach(subscribers: ReadonlySet<JobSubscriber | FeedSubscriber>, event: LiveEvent): void {
    for (const subscriber of subscribers) {
      try {
        subscriber.offer(event);
      } catch (error) {
        failed(subscriber, error);
      }
    }
  }

  /**
   * A transport's failure must not stop delivery to everyone else. The subscriber is closed
   * with a reason, so its transport ends the client's stream and the client resumes.
   */
  function failed(subscriber: JobSubscriber | FeedSubscriber, error: unknown): void {
    logger.error({ err: error }, 'a live-feed subscriber failed; closing it');
    try {
      subscriber.close('delivery-failed');
    } catch (closeError) {
      logger.error({ err: closeError }, 'a live-feed subscriber failed to close');
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

  /**
   * Catches a subscriber up from the store, page by page, yielding between pages; stops
   * early once the subscriber is closed (its client went away).
   */
  async function readJobInto(subscriber: JobSubscriber, jobId: string): Promise<void> {
    for (let page = 0; !subscriber.isClosed; page++) {
      if (page > 0) await yieldToLoop();
      const from = subscriber.lastRevision + 1;
      const events: LiveEvent[] = [];
      let read = 0;
      for await (const recorded of store.readStream(jobStreamName(jobId), { fromRevision: from, maxCount: pageSize })) {
        read++;
        const live = toLiveEvent(recorded);
        if (live) events.push(live);
      }
      if (subscriber.isClosed) return;
      subscriber.catchUpPage(events);
      if (read < pageSize) return;
    }
  }

  /**
   * Registers a subscriber, then catches it up: clients from the tail cache when it holds
   * their revision, from the store otherwise; the cache's own subscribers from the store.
   * Registering first means anything appended meanwhile is buffered, anything before is in
   * the catch-up, and revisions remove the overlap.
   */
  async function followJob(
    jobId: string,
    afterRevision: number,
    sink: JobSink,
    { counted, signal }: { counted: boolean; signal?: AbortSignal | undefined },
  ): Promise<Subscription> {
    const subscriber = new JobSubscriber(jobId, afterRevision, sink, maxPending, (closed) => {
      const set = jobSubscribers.get(jobId);
      if (set?.delete(closed) && counted) track(-1);
      if (set?.size === 0) jobSubscribers.delete(jobId);
    });
    let set = jobSubscribers.get(jobId);
    if (!set) jobSubscribers.set(jobId, (set = new Set()));
    set.add(subscriber);
    if (counted) track(1);
    closeOnAbort(signal, subscriber);
    try {
      const cached = counted ? await tailCache.pagesFrom(jobId, afterRevision + 1) : undefined;
      if (cached) for (const page of cached) subscriber.catchUpPage(page);
      else await readJobInto(subscriber, jobId);
      subscriber.goLive();
    } catch (error) {
      subscriber.close(null);
      throw error;
    }
    return subscriber;
  }

  /**
   * Catches a feed up from `after`: reads `$all` in pages, yielding to the event loop between
   * them. Events of jobs outside the scope count against the bound too (the bound is on work,
   * whoever pays for it). Beyond the bound the client is told to reload its list
   * (`too-far-behind`) before anything was sent, which is why the carried events are handed
   * over only once the scan is complete (at most the bound, in pages of `pageSize`).
   */
  async function scanFeedInto(subscriber: FeedSubscriber, after: GlobalPosition): Promise<void> {
    let from = after;
    let scanned = 0;
    const carried: LiveEvent[] = [];
    for (let page = 0; ; page++) {
      if (page > 0) await yieldToLoop();
      if (subscriber.isClosed) return;
      // One more than the bound allows, so that reaching the bound exactly is not "too far".
      const limit = Math.min(pageSize, maxFeedScan + 1 - scanned);
      let read = 0;
      for await (const recorded of store.readAll({ after: from, filter: FILTER, maxCount: limit })) {
        read++;
        from = recorded.position;
        const live = toLiveEvent(recorded);
        if (live && subscriber.carries(live)) carried.push(live);
      }
      scanned += read;
      if (scanned > maxFeedScan) {
        subscriber.close('too-far-behind');
        return;
      }
      if (read < limit) break;
    }
    if (subscriber.isClosed) return;
    for (let start = 0; start < carried.length || start === 0; start += pageSize) {
      const events = carried.slice(start, start + pageSize);
      const last = start + pageSize >= carried.length;
      subscriber.catchUpPage(events, last ? from : events[events.length - 1]!.position);
    }
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

    subscribeJob(jobId, afterRevision, sink, signal): Promise<Subscription> {
      return followJob(jobId, afterRevision ?? 0, sink, { counted: true, signal });
    },

    async subscribeFeed(scope, after, sink, signal): Promise<Subscription> {
      const subscriber = new FeedSubscriber(scope, sink, maxPending, (closed) => {
        if (feedSubscribers.delete(closed)) track(-1);
      });
      feedSubscribers.add(subscriber);
      track(1);
      closeOnAbort(signal, subscriber);
      const subscription = { close: () => subscriber.close(null) };
      if (after === null) {
        subscriber.catchUpPage([], position);
        subscriber.goLive();
        return subscription;
      }
      try {
        await scanFeedInto(subscriber, after);
        subscriber.goLive();
      } catch (error) {
        subscriber.close(null);
        throw error;
      }
      return subscription;
    },
  };
}
