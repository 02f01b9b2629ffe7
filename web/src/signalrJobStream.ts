import type { HubConnection, ILogger, IRetryPolicy, RetryContext } from '@microsoft/signalr';
import type { JobStream, JobStreamOptions } from './jobStream.ts';
import { RECONNECT_DELAYS_MS, type LostReason, errorText, lostReasonOf } from './streamLink.ts';
import type { LatestStatus, TimelineBulkMessage, TimelineEntry, TimelineEventMessage, TimelineRefMessage } from './wire.ts';

/**
 * The job over the SignalR hub (contract §5): connect with negotiate's `url` and stream
 * token, `Subscribe(job_id, after)`, apply `timeline.bulk`/`timeline.event`/`status.latest`.
 * The official client reconnects on its own with the `RECONNECT_DELAYS_MS` back-off; every
 * reconnect subscribes again after the last revision the page holds. A fresh stream token is
 * fetched (re-negotiate) whenever the client needs one and the current one is expiring, or
 * after a failed attempt.
 *
 * With Azure SignalR Service in serverless mode (negotiate says `serverless: true`) the
 * service pushes the job's group and takes no `Subscribe`: the page reads what it lacks from
 * `GET /jobs/{id}/history?after=` after every (re)connect and whenever a live event shows a hole.
 *
 * `start()` rejects when no transport of the hub can be opened; the caller then falls back
 * to SSE.
 */
export function createSignalRJobStream(options: JobStreamOptions): JobStream {
  const lib = globalThis.signalR;
  const { jobId, sink, credentials } = options;
  if (!lib) {
    return {
      kind: 'signalr',
      start: () => Promise.reject(new Error('The SignalR client script did not load.')),
      retry() {},
      stop() {},
    };
  }

  let transport = 'SignalR';
  let renewNext = false;
  let quiet = false;
  let ended = false;
  let retrying = false;
  let upcoming = { attempt: 1, delay: 0 };
  let repairing = false;
  let repairAgain = false;

  const logger: ILogger = {
    log(level, message) {
      // The client says which transport it opens only in its log.
      const selected = /^Selecting transport '(\w+)'/.exec(message);
      if (selected) transport = `SignalR · ${selected[1]}`;
      else if (level >= lib.LogLevel.Warning) console.warn(`statuscast/signalr: ${message}`);
    },
  };

  const retryPolicy: IRetryPolicy = {
    nextRetryDelayInMilliseconds(context: RetryContext) {
      if (context.previousRetryCount > 0) renewNext = true;
      const delay = RECONNECT_DELAYS_MS[context.previousRetryCount];
      if (delay === undefined) return null;
      upcoming = { attempt: context.previousRetryCount + 1, delay };
      if (connection.state === lib.HubConnectionState.Reconnecting) showReconnecting();
      return delay;
    },
  };

  const connection: HubConnection = new lib.HubConnectionBuilder()
    .withUrl(credentials.current.url, { accessTokenFactory })
    .withAutomaticReconnect(retryPolicy)
    .configureLogging(logger)
    .build();

  connection.on('timeline.bulk', (message: TimelineBulkMessage) => {
    if (message?.job_id === jobId && Array.isArray(message.events)) sink.entries(message.events);
  });
  connection.on('timeline.event', (message: TimelineEventMessage) => {
    if (message?.job_id !== jobId || !message.event) return;
    sink.entries([message.event]);
    // Serverless: a send the service refused or the publisher dropped is never re-sent, so
    // an event that arrives after a hole makes the page read the hole from the history API.
    if (credentials.current.serverless && options.resumeAfter() < message.event.revision - 1) repairHole();
  });
  // Serverless: an event too large for one request to the service comes as a reference.
  connection.on('timeline.ref', (message: TimelineRefMessage) => {
    if (message?.job_id === jobId && credentials.current.serverless && options.resumeAfter() < message.revision) repairHole();
  });
  connection.on('status.latest', (status: LatestStatus) => {
    if (status?.job_id === jobId) sink.latest(status);
  });

  connection.onreconnecting(() => {
    if (ended) return;
    // The hub closes a connection whose token ran out; that reconnect is routine.
    if (upcoming.attempt === 1 && credentials.expiring) sink.link({ status: 'renewing', transport });
    else showReconnecting();
  });
  connection.onreconnected(() => void subscribeAndGoLive());
  connection.onclose((error) => {
    if (quiet || ended) return;
    sink.link({ status: 'disconnected', transport, reason: error ? errorText(error) : 'The connection closed.' });
  });

  async function accessTokenFactory(): Promise<string> {
    try {
      const grant = await credentials.fresh(renewNext);
      renewNext = false;
      return grant.accessToken;
    } catch (error) {
      const lost = lostReasonOf(error);
      if (lost) giveUp(lost, errorText(error));
      throw error;
    }
  }

  function showReconnecting(): void {
    sink.link({ status: 'reconnecting', transport, attempt: upcoming.attempt, retryInMs: upcoming.delay });
  }

  async function subscribe(): Promise<void> {
    if (credentials.current.serverless) await catchUpOverHttp();
    else await connection.invoke('Subscribe', jobId, options.resumeAfter());
  }

  /**
   * Serverless mode: the service already pushes the job's group to this connection, so
   * read what was appended before it connected from the history API. Entries overlapping
   * live ones are de-duplicated by revision in the model.
   */
  async function catchUpOverHttp(): Promise<void> {
    for (;;) {
      const after = options.resumeAfter();
      const page = await options.history(after);
      const entries = page.events.filter((e) => e.type === 'StatusReported').map((e) => toEntry(e.revision, e.data));
      if (entries.length > 0) sink.entries(entries);
      const last = page.events[page.events.length - 1];
      if (!last || page.head_revision === null || last.revision >= page.head_revision) {
        const latest = entries[entries.length - 1];
        if (latest) sink.latest({ ...latest, job_id: jobId });
        return;
      }
    }
  }

  /**
   * One hole repair at a time; a hole seen while one runs asks for another round after it.
   * A failed repair is left to the next event that still sees the hole, or to a reconnect.
   */
  function repairHole(): void {
    if (repairing) {
      repairAgain = true;
      return;
    }
    repairing = true;
    void (async () => {
      try {
        do {
          repairAgain = false;
          await catchUpOverHttp();
        } while (repairAgain && !ended);
      } catch (error) {
        if (!ended) console.warn(`statuscast/signalr: could not read missed events (${errorText(error)})`);
      } finally {
        repairing = false;
      }
    })();
  }

  async function subscribeAndGoLive(): Promise<void> {
    try {
      await subscribe();
      if (!ended) sink.link({ status: 'live', transport });
    } catch (error) {
      if (ended) return;
      if (isNotFound(error)) {
        giveUp('not-found', errorText(error));
        return;
      }
      await stopQuietly();
      sink.link({ status: 'disconnected', transport, reason: errorText(error) });
    }
  }

  async function stopQuietly(): Promise<void> {
    if (connection.state === lib!.HubConnectionState.Disconnected) return;
    quiet = true;
    try {
      await connection.stop();
    } finally {
      quiet = false;
    }
  }

  function giveUp(reason: LostReason, message: string): void {
    if (ended) return;
    ended = true;
    void stopQuietly();
    sink.lost(reason, message);
  }

  return {
    kind: 'signalr',
    async start() {
      sink.link({ status: 'connecting', transport });
      await connection.start();
      try {
        await subscribe();
      } catch (error) {
        if (isNotFound(error)) {
          giveUp('not-found', errorText(error));
          return;
        }
        await stopQuietly();
        throw error;
      }
      sink.link({ status: 'live', transport });
    },
    retry() {
      if (ended || retrying) return;
      retrying = true;
      void (async () => {
        try {
          await stopQuietly();
          renewNext = true;
          sink.link({ status: 'connecting', transport });
          await connection.start();
          await subscribeAndGoLive();
        } catch (error) {
          if (!ended) sink.link({ status: 'disconnected', transport, reason: errorText(error) });
        } finally {
          retrying = false;
        }
      })();
    },
    stop() {
      ended = true;
      void stopQuietly();
    },
  };
}

/** The hub answers Subscribe for an unknown or invisible job with the error "not found". */
function isNotFound(error: unknown): boolean {
  return /not found/i.test(errorText(error));
}

/** A `StatusReported` of the raw stream as the timeline entry the hub would have sent. */
function toEntry(revision: number, data: Record<string, unknown>): TimelineEntry {
  return {
    revision,
    stage: data['stage'],
    state: data['state'],
    artifact: data['artifact'] ?? null,
    message: data['message'] ?? null,
    cycle: data['cycle'] ?? null,
    progress: data['progress'] ?? null,
    details: data['details'] ?? {},
    ts: data['ts'],
  } as TimelineEntry;
}
