/**
 * A load-generating process: holds thousands of raw-protocol connections (SignalR over
 * WebSockets, SSE or long polling, plain SSE, and the peers' protocols), counts what they
 * receive, and also runs the ingest and export clients. The runner drives several of these
 * over IPC so that the clients are spread over processes, away from the server under test.
 */
import { createWriteStream } from 'node:fs';
import { Agent, request } from 'node:http';
import { now, sleep } from '../lib/clock.ts';
import { Histogram } from '../lib/histogram.ts';
import { send, serveIpc } from '../lib/ipcChild.ts';
import { httpRequest, targetOf } from './http.ts';
import type { ClientContext, ClientKind, LoadClient, Ticket } from './loadClient.ts';
import { SocketIoPeerClient, WsPeerClient } from './peerClients.ts';
import { SignalRLongPollingClient, SignalRServerSentEventsClient, SignalRWebSocketClient } from './signalrClients.ts';
import { PlainSseClient } from './sseClient.ts';
import { WorkerCounts } from './workerCounts.ts';

let clients: LoadClient[] = [];
/** One tracker per client kind, so that each transport's figures stay apart. */
const counts = new WorkerCounts<ClientKind>(() => clients);

function createClient(kind: ClientKind, ctx: ClientContext, ticket: Ticket): LoadClient {
  switch (kind) {
    case 'signalr-ws':
      return new SignalRWebSocketClient(ctx, ticket);
    case 'signalr-sse':
      return new SignalRServerSentEventsClient(ctx, ticket);
    case 'signalr-lp':
      return new SignalRLongPollingClient(ctx, ticket);
    case 'sse':
      return new PlainSseClient(ctx, ticket);
    case 'ws-peer':
      return new WsPeerClient(ctx, ticket);
    case 'socketio-peer':
      return new SocketIoPeerClient(ctx, ticket);
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index]!, index);
    }
  });
  await Promise.all(runners);
}

// Keep-alive pings: each connection every 15 s, as the official SignalR clients send them.
let tick = 0;
setInterval(() => {
  tick = (tick + 1) % 15;
  for (let i = tick; i < clients.length; i += 15) clients[i]!.ping();
}, 1000).unref();

serveIpc(
  {
    ...counts.commands(),

    async open(m) {
      const kind = m['kind'] as ClientKind;
      const tickets = m['tickets'] as Ticket[];
      const addresses = m['localAddresses'] as string[];
      const target = targetOf(String(m['url']));
      const started = now();
      const opened: LoadClient[] = [];
      let failed = 0;
      const errors: string[] = [];
      await pool(tickets, Number(m['concurrency'] ?? 100), async (ticket, index) => {
        const ctx: ClientContext = { tracker: counts.trackerFor(kind), target, localAddress: addresses[index % addresses.length]!, recovery: m['recovery'] === true };
        const client = createClient(kind, ctx, ticket);
        try {
          await client.open();
          opened.push(client);
        } catch (error) {
          failed++;
          if (errors.length < 5) errors.push(String(error instanceof Error ? error.message : error));
          client.drop();
        }
      });
      clients.push(...opened);
      return { opened: opened.length, failed, errors, ms: Math.round(now() - started) };
    },

    drop() {
      for (const client of clients) client.drop();
      return { dropped: clients.length };
    },

    /** Reconnects every connection at once (bounded in flight) and waits until each caught up to its target. */
    async resume(m) {
      const targets = m['targets'] as Record<string, number>;
      const timeoutMs = Number(m['timeoutMs'] ?? 60_000);
      for (const client of clients) {
        client.state.target = targets[client.state.key] ?? 0;
        client.state.caughtUpAt = 0;
        client.state.lost = false;
      }
      for (const tracker of counts.all()) tracker.lost = 0;
      const startedAt = now();
      let failed = 0;
      const errors: string[] = [];
      const allCaughtUp = new Promise<void>((resolve) => {
        const check = () => {
          if (clients.every((c) => c.state.caughtUpAt > 0 || c.state.lost)) resolve();
        };
        for (const tracker of counts.all()) tracker.onCaughtUp = check;
        check();
      });
      await pool(clients, Number(m['concurrency'] ?? 250), async (client) => {
        try {
          await client.resume();
        } catch (error) {
          failed++;
          client.state.lost = true;
          if (errors.length < 5) errors.push(String(error instanceof Error ? error.message : error));
        }
      });
      await Promise.race([allCaughtUp, sleep(timeoutMs)]);
      for (const tracker of counts.all()) tracker.onCaughtUp = null;
      const times = clients.filter((c) => c.state.caughtUpAt > 0).map((c) => c.state.caughtUpAt);
      return {
        startedAt,
        resumed: clients.length - failed,
        failed,
        caughtUp: times.length,
        firstCaughtUpAt: times.length ? Math.min(...times) : 0,
        lastCaughtUpAt: times.length ? Math.max(...times) : 0,
        ...counts.stats(),
        resumeErrors: errors,
      };
    },

    async closeAll() {
      const closing = clients;
      clients = [];
      await pool(closing, 200, async (client) => {
        await client.close().catch(() => undefined);
      });
      return { closed: closing.length };
    },

    ingest: (m) => ingestLoad(m),
    exportStream: (m) => exportStream(m),
  },
  async () => {
    for (const client of clients) client.drop();
  },
);
send('ready', { pid: process.pid });

/**
 * `concurrency` publishers POST to `/ingest/status` for `durationMs`, each to its own jobs:
 * one message per request (`batch` 1) or `{ messages: [...] }`. Each answer must say
 * `appended` for every message.
 */
async function ingestLoad(m: Record<string, any>) {
  const target = targetOf(String(m['url']));
  const concurrency = Number(m['concurrency']);
  const batch = Number(m['batch']);
  const jobsPerCaller = Number(m['jobsPerCaller'] ?? 1);
  const durationMs = Number(m['durationMs']);
  const prefix = String(m['jobPrefix']);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency + 4 });
  const latency = new Histogram();
  const statuses: Record<string, number> = {};
  let events = 0;
  let requests = 0;
  let notAppended = 0;
  const started = now();
  const deadline = started + durationMs;
  async function caller(index: number) {
    let n = 0;
    while (now() < deadline) {
      const messages = Array.from({ length: batch }, () => {
        const jobId = `${prefix}-${index}-${n % jobsPerCaller}`;
        n++;
        return {
          message_id: `${jobId}-m${n}`,
          job_id: jobId,
          user_id: 'bench-user',
          stage: 'processing',
          state: 'running',
          message: `step ${n}`,
          progress: 0.5,
          cycle: 1,
          details: { n },
          ts: new Date().toISOString(),
        };
      });
      const body = JSON.stringify(batch === 1 ? messages[0] : { messages });
      const t0 = now();
      const answer = await httpRequest(target, {
        method: 'POST',
        path: '/ingest/status',
        headers: { authorization: `Bearer ${m['token']}`, 'content-type': 'application/json' },
        body,
        agent,
      });
      latency.record(now() - t0);
      requests++;
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      if (answer.status === 202) {
        const results = (JSON.parse(answer.body.toString()) as { results: { outcome: string }[] }).results;
        for (const r of results) if (r.outcome === 'appended') events++;
        else notAppended++;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, i) => caller(i)));
  const elapsed = now() - started;
  agent.destroy();
  return {
    concurrency,
    batch,
    durationMs: Math.round(elapsed),
    requests,
    events,
    notAppended,
    statuses,
    eventsPerSecond: Math.round(events / (elapsed / 1000)),
    requestsPerSecond: Math.round(requests / (elapsed / 1000)),
    latencyMs: latency.summary(),
  };
}

/**
 * Reads `GET /jobs/{id}/history` as NDJSON to the end, counting lines without parsing them;
 * the last line is the signed checkpoint. With `saveTo` the body is also written to that file
 * (for `npm run verify`), a pass not used for the export figure.
 */
function exportStream(m: Record<string, any>) {
  const target = targetOf(String(m['url']));
  const file = m['saveTo'] ? createWriteStream(String(m['saveTo'])) : undefined;
  return new Promise((resolve, reject) => {
    const started = now();
    let lines = 0;
    let bytes = 0;
    let first = '';
    let tail: Buffer = Buffer.alloc(0);
    let firstByteMs = 0;
    const req = request(
      {
        ...target,
        path: `/jobs/${encodeURIComponent(String(m['jobId']))}/history`,
        headers: { authorization: `Bearer ${m['token']}`, accept: 'application/x-ndjson' },
        agent: false,
      },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`export answered ${res.statusCode}`));
          res.resume();
          return;
        }
        if (file) res.pipe(file);
        res.on('data', (chunk: Buffer) => {
          if (bytes === 0) firstByteMs = now() - started;
          bytes += chunk.length;
          if (first === '') first = chunk.toString('utf8', 0, Math.max(0, chunk.indexOf(10)));
          for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++;
          tail = chunk.length >= 4096 ? chunk.subarray(chunk.length - 4096) : Buffer.concat([tail, chunk]).subarray(-4096);
        });
        res.on('end', async () => {
          const ms = now() - started;
          if (file && !file.writableFinished) await new Promise<void>((done) => file.once('finish', () => done()));
          const lastLine = JSON.parse(tail.toString().trimEnd().split('\n').pop() ?? '{}') as { revision?: number; checkpoint?: { revision: number } };
          const events = lastLine.checkpoint ? lines - 1 : lines;
          resolve({
            lines: events,
            bytes,
            ms: Math.round(ms),
            firstByteMs: Math.round(firstByteMs),
            eventsPerSecond: Math.round(events / (ms / 1000)),
            megabytesPerSecond: Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10,
            firstRevision: (JSON.parse(first) as { revision: number }).revision,
            lastRevision: lastLine.checkpoint?.revision ?? lastLine.revision,
            checkpointed: lastLine.checkpoint !== undefined,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
