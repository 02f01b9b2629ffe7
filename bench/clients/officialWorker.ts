/**
 * The confirmation client: the libraries an application would use — `@microsoft/signalr`
 * (WebSockets), `eventsource` (plain SSE) and `socket.io-client` — with the same ops and
 * counts as the raw-protocol load worker, to check that the raw clients' figures hold.
 */
import { performance } from 'node:perf_hooks';
import { HttpTransportType, HubConnectionBuilder, LogLevel, type HubConnection } from '@microsoft/signalr';
import { EventSource } from 'eventsource';
import { io, type Socket } from 'socket.io-client';
import { now, sleep } from '../lib/clock.ts';
import { send, serveIpc } from '../lib/ipcChild.ts';
import type { Ticket } from './loadClient.ts';
import { tracked, type Tracked, Tracker } from './tracker.ts';

type OfficialKind = 'official-signalr' | 'official-eventsource' | 'official-socketio';

interface Official {
  readonly state: Tracked;
  close(): Promise<void>;
}

interface EntryArgument {
  readonly revision: number;
  readonly details: Record<string, unknown>;
}

const trackers = new Map<OfficialKind, Tracker>();
const trackerFor = (kind: OfficialKind) => {
  let tracker = trackers.get(kind);
  if (!tracker) trackers.set(kind, (tracker = new Tracker()));
  return tracker;
};
let clients: Official[] = [];
let cpuStart = process.cpuUsage();
let eluStart = performance.eventLoopUtilization();
let phaseStart = performance.now();
let progressTimer: NodeJS.Timeout | null = null;
const sentAtOf = (details: Record<string, unknown>) => (typeof details['bench_sent_at'] === 'number' ? details['bench_sent_at'] : 0);

async function openSignalR(url: string, ticket: Ticket, tracker: Tracker): Promise<Official> {
  const state = tracked(ticket.key, ticket.after);
  const connection: HubConnection = new HubConnectionBuilder()
    .withUrl(`${url}/hubs/status`, { transport: HttpTransportType.WebSockets, accessTokenFactory: () => ticket.token! })
    .configureLogging(LogLevel.None)
    .build();
  connection.on('timeline.bulk', (bulk: { events: EntryArgument[]; meta: { from_revision: number; to_revision: number } }) =>
    tracker.bulk(state, bulk.meta.from_revision, bulk.meta.to_revision, bulk.events.length),
  );
  connection.on('timeline.event', (argument: { event: EntryArgument }) => tracker.live(state, argument.event.revision, sentAtOf(argument.event.details)));
  connection.on('status.latest', () => undefined);
  connection.onclose(() => tracker.markLost(state));
  await connection.start();
  await connection.invoke('Subscribe', ticket.key, ticket.after);
  return {
    state,
    close: async () => {
      state.lost = true;
      await connection.stop();
    },
  };
}

async function openEventSource(url: string, ticket: Ticket, tracker: Tracker): Promise<Official> {
  const state = tracked(ticket.key, ticket.after);
  const source = new EventSource(`${url}/jobs/${encodeURIComponent(ticket.key)}/events?access_token=${encodeURIComponent(ticket.token!)}&after=${ticket.after}`);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('EventSource catch-up timed out')), 60_000);
    source.addEventListener('timeline.bulk', (e) => {
      const bulk = JSON.parse(e.data) as { events: EntryArgument[]; meta: { from_revision: number; to_revision: number } };
      tracker.bulk(state, bulk.meta.from_revision, bulk.meta.to_revision, bulk.events.length);
      clearTimeout(timer);
      resolve();
    });
    source.addEventListener('timeline.event', (e) => {
      const { event } = JSON.parse(e.data) as { event: EntryArgument };
      tracker.live(state, event.revision, sentAtOf(event.details));
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) tracker.markLost(state);
    };
  });
  return {
    state,
    close: async () => {
      state.lost = true;
      source.close();
    },
  };
}

async function openSocketIo(url: string, ticket: Ticket, tracker: Tracker): Promise<Official> {
  const state = tracked(ticket.key, ticket.after);
  const socket: Socket = io(url, { transports: ['websocket'], query: { room: ticket.key }, forceNew: true, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socket.io connect timed out')), 60_000);
    socket.on('hello', (seq: number) => {
      state.last = seq;
      clearTimeout(timer);
      resolve();
    });
    socket.on('status', (timelineEvent: { event: EntryArgument }) => tracker.live(state, timelineEvent.event.revision, sentAtOf(timelineEvent.event.details)));
    socket.on('disconnect', () => tracker.markLost(state));
    socket.on('connect_error', (error) => reject(error));
  });
  return {
    state,
    close: async () => {
      state.lost = true;
      socket.disconnect();
    },
  };
}

function stats() {
  const wallMs = performance.now() - phaseStart;
  const cpu = process.cpuUsage(cpuStart);
  return {
    byKind: Object.fromEntries([...trackers].map(([kind, tracker]) => [kind, tracker.stats()])),
    connections: clients.length,
    errors: [...trackers.values()].flatMap((t) => t.errors),
    cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10,
    eventLoopUtilization: Math.round(performance.eventLoopUtilization(eluStart).utilization * 1000) / 1000,
  };
}

const totalReceived = () => [...trackers.values()].reduce((a, t) => a + t.totalReceived, 0);

serveIpc(
  {
    async open(m) {
      const kind = m['kind'] as OfficialKind;
      const url = String(m['url']);
      const tracker = trackerFor(kind);
      const started = now();
      let failed = 0;
      const errors: string[] = [];
      const tickets = m['tickets'] as Ticket[];
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(50, tickets.length) }, async () => {
          while (next < tickets.length) {
            const ticket = tickets[next++]!;
            try {
              const opener = kind === 'official-signalr' ? openSignalR : kind === 'official-eventsource' ? openEventSource : openSocketIo;
              clients.push(await opener(url, ticket, tracker));
            } catch (error) {
              failed++;
              if (errors.length < 5) errors.push(String(error instanceof Error ? error.message : error));
            }
          }
        }),
      );
      return { opened: tickets.length - failed, failed, errors, ms: Math.round(now() - started) };
    },
    phase() {
      for (const tracker of trackers.values()) tracker.reset();
      cpuStart = process.cpuUsage();
      eluStart = performance.eventLoopUtilization();
      phaseStart = performance.now();
      return null;
    },
    stats,
    resetAll() {
      trackers.clear();
      return null;
    },
    progress(m) {
      if (progressTimer) clearInterval(progressTimer);
      progressTimer = null;
      const interval = Number(m['intervalMs'] ?? 0);
      if (interval > 0) progressTimer = setInterval(() => send('progress', { total: totalReceived() }), interval);
      return { total: totalReceived() };
    },
    async finalCheck(m) {
      const finals = m['finals'] as Record<string, number>;
      const deadline = now() + Number(m['timeoutMs'] ?? 10_000);
      const behind = () => clients.filter((c) => !c.state.lost && c.state.last < (finals[c.state.key] ?? 0));
      while (behind().length > 0 && now() < deadline) await sleep(20);
      const late = behind();
      const tailGaps = late.reduce((a, c) => a + (finals[c.state.key] ?? 0) - c.state.last, 0);
      return { behind: late.length, tailGaps, beyond: 0, ...stats() };
    },
    async closeAll() {
      const closing = clients;
      clients = [];
      await Promise.all(closing.map((c) => c.close().catch(() => undefined)));
      return { closed: closing.length };
    },
  },
  async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  },
);
send('ready', { pid: process.pid });
