import { Agent } from 'node:http';
import type { ClientKind, Ticket } from '../clients/loadClient.ts';
import { httpJson, httpRequest, targetOf } from '../clients/http.ts';
import { type Child, spawnChild } from './children.ts';
import { BENCH_USER, peerEvent, statusMessage } from './payload.ts';

export type SystemName = 'statuscast' | 'ws' | 'socketio';

/** A server under test, seen from the publisher's side. */
export interface SystemUnderTest {
  readonly name: SystemName;
  readonly child: Child;
  readonly url: string;
  /** Client kinds that follow it in a fan-out, alternated over the connections. */
  readonly kinds: readonly ClientKind[];
  /** Creates the jobs (rooms) and returns one ticket per key: where to start, with what token. */
  prepare(keys: readonly string[]): Promise<Map<string, Ticket>>;
  /** Publishes one event per entry of `keys` (a key may repeat), timestamped `sentAt`. */
  publish(keys: readonly string[], sentAt: number): Promise<void>;
  /** The last revision (sequence) published per key. */
  readonly finals: Map<string, number>;
  stop(): Promise<void>;
}

/** Server flags: a GC the harness can force, and a heap that never limits a run. */
const SERVER_FLAGS = ['--expose-gc', '--max-old-space-size=8192'];

export async function startStatuscast(options: { env?: Record<string, string>; name?: string } = {}): Promise<StatuscastSystem> {
  const child = await spawnChild(new URL('../server/statuscastServer.ts', import.meta.url), {
    name: options.name ?? 'statuscast',
    nodeFlags: SERVER_FLAGS,
    env: { BENCH_SERVER_ENV: JSON.stringify(options.env ?? {}) },
  });
  const system = new StatuscastSystem(child);
  await system.init();
  return system;
}

/** statuscast: jobs are created through ingest, followed with stream tokens from negotiate. */
export class StatuscastSystem implements SystemUnderTest {
  readonly name = 'statuscast' as const;
  readonly kinds: readonly ClientKind[] = ['signalr-ws', 'sse'];
  readonly finals = new Map<string, number>();
  readonly url: string;
  publisherToken = '';
  userToken = '';
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(readonly child: Child) {
    this.url = String(child.ready['url']);
  }

  async init(): Promise<void> {
    this.publisherToken = await this.child.request('token', { sub: 'bench-publisher', roles: ['publisher'] });
    this.userToken = await this.child.request('token', { sub: BENCH_USER });
  }

  async prepare(keys: readonly string[]): Promise<Map<string, Ticket>> {
    const fresh = keys.filter((key) => !this.finals.has(key));
    for (let i = 0; i < fresh.length; i += 500) {
      await this.ingest(fresh.slice(i, i + 500).map((key) => statusMessage(key, 0, true)));
    }
    const tickets = new Map<string, Ticket>();
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(32, keys.length) }, async () => {
        while (next < keys.length) {
          const key = keys[next++]!;
          tickets.set(key, { key, token: await this.streamToken(key), after: this.finals.get(key) ?? 0 });
        }
      }),
    );
    return tickets;
  }

  /** `POST /jobs/{id}/signalr/negotiate` as the job's owner: the stream token for hub and SSE. */
  async streamToken(jobId: string): Promise<string> {
    const answer = await httpJson<{ accessToken: string }>(targetOf(this.url), {
      method: 'POST',
      path: `/jobs/${encodeURIComponent(jobId)}/signalr/negotiate`,
      headers: { authorization: `Bearer ${this.userToken}` },
      agent: this.agent,
    });
    return answer.accessToken;
  }

  publish(keys: readonly string[], sentAt: number): Promise<void> {
    return this.ingest(keys.map((key) => statusMessage(key, sentAt, !this.finals.has(key))));
  }

  /** `POST /ingest/status`; every message must come back `appended`. */
  async ingest(messages: readonly Record<string, unknown>[]): Promise<void> {
    const body = messages.length === 1 ? messages[0] : { messages };
    const answer = await httpRequest(targetOf(this.url), {
      method: 'POST',
      path: '/ingest/status',
      headers: { authorization: `Bearer ${this.publisherToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      agent: this.agent,
    });
    if (answer.status !== 202) throw new Error(`ingest answered ${answer.status}: ${answer.body.toString().slice(0, 200)}`);
    const { results } = JSON.parse(answer.body.toString()) as { results: { job_id: string; outcome: string; revision?: number }[] };
    for (const result of results) {
      if (result.outcome !== 'appended') throw new Error(`ingest: ${JSON.stringify(result)}`);
      if ((this.finals.get(result.job_id) ?? -1) < result.revision!) this.finals.set(result.job_id, result.revision!);
    }
  }

  async counts(): Promise<{ connections: Record<string, number>; hubConnections: number; liveSubscribers: number; feedPosition: number; head: number }> {
    return this.child.request('counts');
  }

  /** Resolves once the live feed has dispatched everything in the store. */
  async dispatched(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const counts = await this.counts();
      if (counts.feedPosition >= counts.head) return;
      if (Date.now() > deadline) throw new Error('the live feed did not catch up');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    await this.child.stop(30_000);
  }
}

/** A peer (raw `ws` or Socket.IO): rooms need no setup; the publisher numbers the events. */
export class PeerSystem implements SystemUnderTest {
  readonly finals = new Map<string, number>();
  readonly url: string;
  readonly kinds: readonly ClientKind[];

  constructor(
    readonly name: 'ws' | 'socketio',
    readonly child: Child,
  ) {
    this.url = String(child.ready['url']);
    this.kinds = name === 'ws' ? ['ws-peer'] : ['socketio-peer'];
  }

  async prepare(keys: readonly string[]): Promise<Map<string, Ticket>> {
    return new Map(keys.map((key) => [key, { key, after: this.finals.get(key) ?? 0 }]));
  }

  publish(keys: readonly string[], sentAt: number): Promise<void> {
    const events = keys.map((key) => {
      const seq = (this.finals.get(key) ?? 0) + 1;
      this.finals.set(key, seq);
      return peerEvent(key, seq, sentAt);
    });
    return this.child.request('broadcast', { events });
  }

  async connections(): Promise<number> {
    return (await this.child.request<{ connections: number }>('counts')).connections;
  }

  async stop(): Promise<void> {
    await this.child.stop(30_000);
  }
}

export async function startPeer(name: 'ws' | 'socketio', options: { recovery?: boolean } = {}): Promise<PeerSystem> {
  const script = name === 'ws' ? '../peers/wsServer.ts' : '../peers/socketIoServer.ts';
  const child = await spawnChild(new URL(script, import.meta.url), {
    name: name === 'ws' ? 'peer-ws' : 'peer-socketio',
    nodeFlags: SERVER_FLAGS,
    env: { BENCH_SOCKETIO_RECOVERY: options.recovery ? '1' : '0' },
  });
  return new PeerSystem(name, child);
}

export async function startSystem(name: SystemName, env?: Record<string, string>): Promise<SystemUnderTest> {
  return name === 'statuscast' ? startStatuscast({ env }) : startPeer(name);
}
