import type { HubConnection, ILogger, IRetryPolicy, RetryContext } from '@microsoft/signalr';
import type { JobStream, JobStreamOptions } from './jobStream.ts';
import { RECONNECT_DELAYS_MS, type LostReason, errorText, lostReasonOf } from './streamLink.ts';
import type { LatestStatus, TimelineBulkMessage, TimelineEventMessage } from './wire.ts';

/**
 * The job over the SignalR hub (contract §5): connect with negotiate's `url` and stream
 * token, `Subscribe(job_id, after)`, apply `timeline.bulk`/`timeline.event`/`status.latest`.
 * The official client reconnects on its own with the `RECONNECT_DELAYS_MS` back-off; every
 * reconnect subscribes again after the last revision the page holds. A fresh stream token is
 * fetched (re-negotiate) whenever the client needs one and the current one is expiring, or
 * after a failed attempt.
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
    if (message?.job_id === jobId && message.event) sink.entries([message.event]);
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
    await connection.invoke('Subscribe', jobId, options.resumeAfter());
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
