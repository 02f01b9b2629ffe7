import { RECONNECT_DELAYS_MS, type LinkState, type LostReason, type StreamCredentials, type StreamGrant, errorText, lostReasonOf } from './streamLink.ts';

export interface SseFollowerOptions<G extends StreamGrant> {
  readonly credentials: StreamCredentials<G>;
  /** The stream URL for a grant, with the resume point the page holds right now. */
  url(grant: G): string;
  /** Handlers by SSE event name; `data` is the parsed JSON. */
  readonly events: Readonly<Record<string, (data: unknown, lastEventId: string) => void>>;
  link(state: LinkState): void;
  lost(reason: LostReason, message: string): void;
  /** Shown as the transport in `LinkState`. Defaults to `SSE`. */
  readonly transport?: string;
  /** Shown beside the transport while live (e.g. why SignalR was not used). */
  readonly note?: string;
}

export interface SseFollower {
  start(): void;
  /** Reconnects now (re-negotiating first), whatever the back-off was waiting for. */
  retry(): void;
  stop(): void;
}

/**
 * Follows one Server-Sent-Events stream with the page's own reconnect policy instead of
 * the browser's: on any error the `EventSource` is closed, and the next one is opened after
 * the `RECONNECT_DELAYS_MS` back-off with a fresh resume point in the URL (so whatever was
 * applied is never asked for twice) and, when the stream token is expiring or the last
 * attempt failed before the stream opened (a 401 looks like any other error to
 * `EventSource`), with a re-negotiated token.
 */
export function followSse<G extends StreamGrant>(options: SseFollowerOptions<G>): SseFollower {
  const transport = options.transport ?? 'SSE';
  let source: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let renewNext = false;
  let stopped = false;
  /** Bumped whenever a connection is abandoned, so a connect still awaiting its grant gives up. */
  let generation = 0;

  async function connect(forceRenew: boolean): Promise<void> {
    timer = undefined;
    const mine = ++generation;
    let grant: G;
    try {
      grant = await options.credentials.fresh(forceRenew || renewNext);
      renewNext = false;
    } catch (error) {
      if (stopped || mine !== generation) return;
      const lost = lostReasonOf(error);
      if (lost) {
        stop();
        options.lost(lost, errorText(error));
      } else {
        scheduleReconnect();
      }
      return;
    }
    if (stopped || mine !== generation) return;
    let opened = false;
    const es = new EventSource(options.url(grant));
    source = es;
    for (const [name, handler] of Object.entries(options.events)) {
      es.addEventListener(name, (event) => {
        if (source !== es) return;
        const message = event as MessageEvent<string>;
        let data: unknown;
        try {
          data = JSON.parse(message.data);
        } catch {
          console.warn(`statuscast: ignoring a malformed "${name}" event`);
          return;
        }
        handler(data, message.lastEventId);
      });
    }
    es.onopen = () => {
      if (source !== es) return;
      opened = true;
      attempt = 0;
      options.link({ status: 'live', transport, ...(options.note && { note: options.note }) });
    };
    es.onerror = () => {
      es.close();
      if (source !== es || stopped) return;
      source = null;
      if (!opened) renewNext = true;
      if (opened && options.credentials.expiring) {
        // The server ends a stream when its token expires: renew and resume, quietly.
        options.link({ status: 'renewing', transport });
        void connect(true);
        return;
      }
      scheduleReconnect();
    };
  }

  function scheduleReconnect(): void {
    const delay = RECONNECT_DELAYS_MS[attempt];
    if (delay === undefined) {
      attempt = 0;
      options.link({ status: 'disconnected', transport, reason: 'The live stream could not be reopened.' });
      return;
    }
    attempt++;
    options.link({ status: 'reconnecting', transport, attempt, retryInMs: delay });
    timer = setTimeout(() => void connect(false), delay);
  }

  function closeSource(): void {
    generation++;
    clearTimeout(timer);
    timer = undefined;
    source?.close();
    source = null;
  }

  function stop(): void {
    stopped = true;
    closeSource();
  }

  return {
    start() {
      stopped = false;
      options.link({ status: 'connecting', transport });
      void connect(false);
    },
    retry() {
      if (stopped) return;
      closeSource();
      attempt = 0;
      options.link({ status: 'connecting', transport });
      void connect(true);
    },
    stop,
  };
}

/** Appends `name=value` to a URL that may already have a query. */
export function withQuery(url: string, name: string, value: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
}
