import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createHubServer, type HubDefinition, type HubServer, type HubServerOptions } from '../../src/index.ts';
import { testAuthenticate, type TestUser } from './testAuthenticator.ts';
import { testLogger } from './testLogger.ts';

export interface RunningHubServer {
  readonly url: string;
  readonly origin: string;
  readonly hubServer: HubServer;
  readonly http: Server;
  /** Raw sockets of WebSocket upgrades to the hub, newest last (to break them uncleanly). */
  readonly upgradeSockets: Duplex[];
  stop(): Promise<void>;
}

/** A bare node:http server on 127.0.0.1 with a hub at `/hubs/test`, for protocol-level tests. */
export async function startTestHubServer<TSession>(
  hub: HubDefinition<TestUser, TSession>,
  overrides: Partial<HubServerOptions<TestUser, TSession>> = {},
): Promise<RunningHubServer> {
  const hubServer = createHubServer<TestUser, TSession>({
    path: '/hubs/test',
    hub,
    authenticate: (token) => testAuthenticate(token),
    logger: testLogger(),
    ...overrides,
    // Tests leave long-polling connections without a poll; don't wait the default 5 s for them.
    limits: { shutdownTimeoutMs: 300, ...overrides.limits },
  });
  const upgradeSockets: Duplex[] = [];
  const http = createServer((req, res) => {
    hubServer.handleRequest(req, res).then((handled) => {
      if (!handled) {
        res.statusCode = 404;
        res.end('not a hub path');
      }
    });
  });
  http.on('upgrade', (req, socket, head) => {
    if (hubServer.handleUpgrade(req, socket, head)) upgradeSockets.push(socket);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url: `${origin}/hubs/test`,
    origin,
    hubServer,
    http,
    upgradeSockets,
    async stop() {
      await hubServer.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
