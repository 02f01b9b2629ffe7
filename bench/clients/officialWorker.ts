/**
 * The confirmation client: the libraries an application would use — `@microsoft/signalr`
 * (WebSockets), `eventsource` (plain SSE) and `socket.io-client` — with the same ops and
 * counts as the raw-protocol load worker, to check that the raw clients' figures hold.
 */
import { HttpTransportType, HubConnectionBuilder, LogLevel, type HubConnection } from '@microsoft/signalr';
import { EventSource } from 'eventsource';
import { io, type Socket } from 'socket.io-client';
import { now } from '../lib/clock.ts';
import { send, serveIpc } from '../lib/ipcChild.ts';
import type { OfficialKind, Ticket } from './loadClient.ts';
import { tracked, type Tracked, type Tracker } from './tracker.ts';
import { WorkerCounts } from './workerCounts.ts';

interface Official {
  readonly state: Tracked;
  close(): Promise<void>;
}

interface EntryArgument {
  readonly revision: number;
  readonly details: Record<string, unknown>;
}

let clients: Official[] = [];
const counts = new WorkerCounts<OfficialKind>(() => clients);
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

serveIpc(
  {
    ...counts.commands(),
    async open(m) {
      const kind = m['kind'] as OfficialKind;
      const url = String(m['url']);
      const tracker = counts.trackerFor(kind);
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
