import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { expect } from 'vitest';
import { type TestServer, startTestServer, status } from '../../support/testServer.ts';

export interface WebFixture {
  readonly server: TestServer;
  readonly url: string;
  /** Publishes `count` statuses for `jobId` (owned by `owner`); returns the revisions appended. */
  publish(jobId: string, owner: string, count: number, overrides?: Record<string, unknown>): Promise<number[]>;
  /** Destroys every open TCP connection to the server, as a crash or a network cut would. */
  dropConnections(): number;
  /** Streaming connections opened so far: hub negotiations (one per SignalR connection) and SSE streams. */
  connectionsOpened(): { hub: number; sse: number };
  /** Streaming connections open now, from the server's own `statuscast_connections` gauge (every transport). */
  openConnections(): Promise<number>;
  close(): Promise<void>;
}

const STAGES = ['queued', 'fetch', 'parse', 'render', 'publish'];

export interface WebFixtureOptions {
  readonly env?: Record<string, string>;
}

/** The real server (startTestServer) plus what the browser scenarios need around it. */
export async function startWebFixture(options: WebFixtureOptions = {}): Promise<WebFixture> {
  const server = await startTestServer({ ...options.env });
  const sockets = new Set<Socket>();
  server.server.httpServer.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const revisions = new Map<string, number>();
  const opened = { hub: 0, sse: 0 };
  server.server.httpServer.on('request', (req: IncomingMessage) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'POST' && path === '/hubs/status/negotiate') opened.hub++;
    else if (req.method === 'GET' && (path === '/events' || /^\/jobs\/[^/]+\/events$/.test(path))) opened.sse++;
  });

  return {
    server,
    url: server.url,
    async publish(jobId, owner, count, overrides = {}) {
      const appended: number[] = [];
      for (let i = 0; i < count; i++) {
        const next = (revisions.get(jobId) ?? 0) + 1;
        const answer = await server.ingest(
          status({
            job_id: jobId,
            user_id: owner,
            stage: STAGES[Math.min(next - 1, STAGES.length - 1)],
            state: next === 1 ? 'queued' : 'running',
            message: `${jobId} step ${next}`,
            progress: Math.min(1, next / 10),
            ts: new Date().toISOString(),
            ...(next === 1 && { meta: { stage_order: STAGES, expected_cycles: null } }),
            ...overrides,
          }),
        );
        expect(answer.status).toBe(202);
        expect(answer.body.results[0]).toMatchObject({ outcome: 'appended', revision: next });
        revisions.set(jobId, next);
        appended.push(next);
      }
      await server.projected();
      return appended;
    },
    dropConnections() {
      const count = sockets.size;
      for (const socket of sockets) socket.destroy();
      return count;
    },
    connectionsOpened: () => ({ ...opened }),
    async openConnections() {
      const gauge = await server.server.metrics.connections.get();
      return gauge.values.reduce((sum, value) => sum + value.value, 0);
    },
    close: () => server.close(),
  };
}



/** 1..n */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}
