/**
 * What an idle SSE connection costs in server heap, layer by layer, on a bare Node HTTP
 * server (no express, no statuscast): an open `text/event-stream` response by itself, then
 * a better-sse session on the same kind of response. The capacity scenario measures the
 * whole stack; this probe says which layer the memory belongs to.
 *
 *   npx tsx bench/probes/sseSessionMemory.ts [connections]
 *
 * Heap after forced GCs, before and after opening the connections (the client sockets live
 * in the same process, so RSS per connection here counts both ends and is only indicative).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { createSession } from 'better-sse';

type Layer = 'bare-response' | 'better-sse-session';
const LAYERS: readonly Layer[] = ['bare-response', 'better-sse-session'];

async function measure(layer: Layer, connections: number): Promise<{ heapKiB: number; rssKiB: number }> {
  const held: unknown[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (layer === 'bare-response') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.write('retry: 2000\n\n');
      held.push(res);
    } else {
      void createSession(req, res, { keepAlive: 15_000, trustClientEventId: false }).then((session) => held.push(session));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  await settle();
  const before = process.memoryUsage();
  const sockets: Socket[] = [];
  for (let i = 0; i < connections; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.write('GET /jobs/job-1/events?access_token=x HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n');
    socket.resume();
    sockets.push(socket);
  }
  while (held.length < connections) await new Promise((resolve) => setTimeout(resolve, 20));
  await settle();
  const after = process.memoryUsage();
  for (const socket of sockets) socket.destroy();
  server.close();
  return {
    heapKiB: Math.round(((after.heapUsed - before.heapUsed) / connections / 1024) * 100) / 100,
    rssKiB: Math.round(((after.rss - before.rss) / connections / 1024) * 100) / 100,
  };
}

declare function gc(): void;

const connections = Number(process.argv[2] ?? 3_000);
const layer = process.argv[3] as Layer | undefined;
if (layer) {
  // One layer per process, so that one measurement's garbage cannot blur the next.
  const result = await measure(layer, connections);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
const self = fileURLToPath(import.meta.url);
for (const each of LAYERS) {
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, String(connections), each], { encoding: 'utf8' });
  const result = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as { heapKiB: number; rssKiB: number };
  process.stdout.write(`${each.padEnd(20)} heap ${result.heapKiB} KiB per connection (RSS incl. client side ${result.rssKiB} KiB), ${connections} connections\n`);
}
