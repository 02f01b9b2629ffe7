import { type Server, type Socket, connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy between clients and a server that injects network faults: it can cut every
 * connection at once (both sides destroyed, as a dropped network would) or stall them (no
 * byte passes either way for a while, then everything flows again, as a congested or
 * briefly unplugged link would). Everything the client does — API calls, hub negotiate,
 * WebSockets, SSE, long polls — goes through it.
 */
export interface FaultyProxy {
  readonly url: string;
  /** Destroys every open connection through the proxy; returns how many. */
  dropAll(): number;
  /** Passes no byte in either direction for `ms`, on every connection open now or opened meanwhile. */
  stall(ms: number): void;
  readonly stats: { connections: number; drops: number; stalls: number };
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

export async function startFaultyProxy(target: string): Promise<FaultyProxy> {
  const { hostname, port } = new URL(target);
  const pairs = new Set<Pair>();
  const stats = { connections: 0, drops: 0, stalls: 0 };
  let stalledUntil = 0;
  let resumeTimer: ReturnType<typeof setTimeout> | undefined;

  const stalled = () => Date.now() < stalledUntil;
  function resumeAll(): void {
    for (const { client, upstream } of pairs) {
      client.resume();
      upstream.resume();
    }
  }
  function forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => {
      if (!stalled()) from.resume();
    });
  }

  const server: Server = createServer((client) => {
    stats.connections++;
    const upstream = connect(Number(port), hostname);
    const pair = { client, upstream };
    pairs.add(pair);
    forward(client, upstream);
    forward(upstream, client);
    if (stalled()) {
      client.pause();
      upstream.pause();
    }
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${address.port}`,
    stats,
    dropAll() {
      const count = pairs.size;
      for (const { client, upstream } of [...pairs]) {
        client.resetAndDestroy();
        upstream.destroy();
      }
      stats.drops++;
      return count;
    },
    stall(ms) {
      stats.stalls++;
      stalledUntil = Math.max(stalledUntil, Date.now() + ms);
      for (const { client, upstream } of pairs) {
        client.pause();
        upstream.pause();
      }
      clearTimeout(resumeTimer);
      resumeTimer = setTimeout(resumeAll, stalledUntil - Date.now());
    },
    async close() {
      clearTimeout(resumeTimer);
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
