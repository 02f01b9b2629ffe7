import {
  HttpTransportType,
  HubConnectionBuilder,
  LogLevel,
  type HubConnection,
  type IRetryPolicy,
} from '@microsoft/signalr';

export { HttpTransportType, HubConnectionState } from '@microsoft/signalr';
export type { HubConnection } from '@microsoft/signalr';

export const TRANSPORTS = [
  ['WebSockets', HttpTransportType.WebSockets],
  ['ServerSentEvents', HttpTransportType.ServerSentEvents],
  ['LongPolling', HttpTransportType.LongPolling],
] as const;

export interface ClientOptions {
  readonly transport: HttpTransportType;
  readonly token?: () => string;
  readonly automaticReconnect?: readonly number[] | IRetryPolicy;
  readonly statefulReconnect?: boolean;
  readonly serverTimeoutMs?: number;
}

/** The official client, configured the way an application would, logging only errors when asked. */
export function buildClient(url: string, options: ClientOptions): HubConnection {
  let builder = new HubConnectionBuilder()
    .withUrl(url, {
      transport: options.transport,
      ...(options.token ? { accessTokenFactory: options.token } : {}),
    })
    .configureLogging(process.env['TEST_CLIENT_LOG'] ? LogLevel.Debug : LogLevel.None);
  if (options.automaticReconnect) {
    const policy = options.automaticReconnect;
    builder = Array.isArray(policy) ? builder.withAutomaticReconnect([...policy]) : builder.withAutomaticReconnect(policy as IRetryPolicy);
  }
  if (options.statefulReconnect) builder = builder.withStatefulReconnect();
  const connection = builder.build();
  if (options.serverTimeoutMs !== undefined) connection.serverTimeoutInMilliseconds = options.serverTimeoutMs;
  return connection;
}
