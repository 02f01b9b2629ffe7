import { HttpTransportType, HubConnectionBuilder, LogLevel, type HubConnection, type ILogger } from '@microsoft/signalr';
import type { TransportName } from '../connectionState.ts';
import { StatuscastError, errorText } from '../errors.ts';
import type { Link, LinkMessage } from './link.ts';

/** Which of the official client's transports to offer: all (its own order), or one. */
export type SignalRTransports = 'auto' | 'websockets' | 'server-sent-events' | 'long-polling';

/** Logs the official client's messages at this level and above; `log` receives them. */
export type ClientLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

export interface SignalRLinkOptions {
  readonly url: string;
  readonly accessToken: string;
  readonly transports: SignalRTransports;
  /** The targets to receive (`timeline.bulk`, …). */
  readonly targets: readonly string[];
  readonly message: LinkMessage;
  /** Runs once the connection is open, before the link counts as live: the hub methods to invoke. */
  subscribe(connection: HubConnection): Promise<void>;
  /** The connection is given up when nothing (not even a Ping) arrives for this long. */
  readonly serverTimeoutMs: number;
  readonly signal: AbortSignal;
  readonly log?: ClientLog | undefined;
}

const TRANSPORT_MASKS: Record<SignalRTransports, HttpTransportType> = {
  auto: HttpTransportType.WebSockets | HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling,
  websockets: HttpTransportType.WebSockets,
  'server-sent-events': HttpTransportType.ServerSentEvents,
  'long-polling': HttpTransportType.LongPolling,
};

const TRANSPORT_NAMES: Record<string, TransportName> = {
  WebSockets: 'websockets',
  ServerSentEvents: 'server-sent-events',
  LongPolling: 'long-polling',
};

const LEVELS: Partial<Record<LogLevel, 'debug' | 'info' | 'warn' | 'error'>> = {
  [LogLevel.Trace]: 'debug',
  [LogLevel.Debug]: 'debug',
  [LogLevel.Information]: 'info',
  [LogLevel.Warning]: 'warn',
  [LogLevel.Error]: 'error',
  [LogLevel.Critical]: 'error',
};

/**
 * One connection of the official `@microsoft/signalr` client (it tries WebSockets, then
 * Server-Sent Events, then long polling) with the stream token, without its automatic
 * reconnect: the caller reconnects, so that every transport resumes the same way. Resolves
 * once `subscribe` completed; rejects (with an `unavailable` error) when the connection
 * cannot be opened or the subscription fails.
 */
export async function openSignalRLink(options: SignalRLinkOptions): Promise<Link> {
  let transport: TransportName = options.transports === 'auto' ? 'websockets' : options.transports;
  const logger: ILogger = {
    log(level, message) {
      // The official client says which transport it opens only in its log.
      const selected = /^Selecting transport '(\w+)'/.exec(message);
      if (selected?.[1] && TRANSPORT_NAMES[selected[1]]) transport = TRANSPORT_NAMES[selected[1]]!;
      const name = LEVELS[level];
      if (name && options.log) options.log(name, `signalr: ${message}`);
    },
  };
  const connection = new HubConnectionBuilder()
    .withUrl(options.url, { accessTokenFactory: () => options.accessToken, transport: TRANSPORT_MASKS[options.transports] })
    .configureLogging(logger)
    .build();
  connection.serverTimeoutInMilliseconds = options.serverTimeoutMs;
  for (const target of options.targets) connection.on(target, (data: unknown) => options.message(target, data, undefined));

  let stopped = false;
  let settle!: (error: StatuscastError | null) => void;
  const ended = new Promise<StatuscastError | null>((done) => (settle = done));
  connection.onclose((error) => settle(stopped ? null : new StatuscastError('unavailable', error ? `the hub connection closed: ${errorText(error)}` : 'the hub connection closed')));
  const stop = () => {
    stopped = true;
    void connection.stop().catch(() => {});
  };
  if (options.signal.aborted) throw new StatuscastError('unavailable', 'cancelled');
  options.signal.addEventListener('abort', stop, { once: true });
  try {
    await connection.start();
    await options.subscribe(connection);
  } catch (error) {
    stop();
    throw linkError(error);
  } finally {
    options.signal.removeEventListener('abort', stop);
  }
  return { transport, ended, stop };
}

/**
 * Any failure to open or subscribe is worth another attempt with a fresh negotiate; the
 * negotiate answer (404, 401) is what says the job or the sign-in is gone.
 */
function linkError(error: unknown): StatuscastError {
  return new StatuscastError('unavailable', `SignalR could not connect: ${errorText(error)}`);
}
