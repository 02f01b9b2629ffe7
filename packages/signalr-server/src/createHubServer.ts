import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createHttpDispatcher } from './httpDispatcher.ts';
import { createHubServerContext } from './hubServerContext.ts';
import type { HubServerOptions } from './hubServerOptions.ts';
import { WebSocketTransport } from './webSocketTransport.ts';

/** A SignalR hub endpoint, independent of any framework. */
export interface HubServer {
  /** Handles a request when it is for the hub (resolves true); otherwise touches nothing (false). */
  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Takes an `upgrade` for the hub path (true); other paths are left alone (false). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /**
   * Graceful shutdown: refuses new connections, sends every connection Close with
   * `allowReconnect: true`, waits up to `shutdownTimeoutMs` for sockets to finish closing and
   * long-polling clients to collect their Close, then drops whatever is left.
   */
  close(): Promise<void>;
  /** Connections the server still tracks (including ones delivering their last poll). */
  readonly connectionCount: number;
}

/**
 * Creates a hub server speaking the ASP.NET Core SignalR protocol (negotiate v1, JSON hub
 * protocol v1/v2) over WebSockets, Server-Sent Events and long polling, with stateful reconnect.
 */
export function createHubServer<TUser, TSession>(options: HubServerOptions<TUser, TSession>): HubServer {
  const context = createHubServerContext(options);
  const dispatch = createHttpDispatcher(context);
  const webSockets = new WebSocketTransport(context);
  let closed: Promise<void> | null = null;

  async function shutdown(): Promise<void> {
    context.closing = true;
    for (const connection of context.registry.all()) connection.close({ allowReconnect: true });
    const deadline = Date.now() + context.limits.shutdownTimeoutMs;
    await webSockets.close(deadline);
    while (context.registry.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const connection of context.registry.all()) connection.releaseToken();
  }

  return {
    handleRequest: dispatch,
    handleUpgrade: (req, socket, head) => webSockets.handleUpgrade(req, socket, head),
    close: () => (closed ??= shutdown()),
    get connectionCount() {
      return context.registry.size;
    },
  };
}
