/**
 * Scenario 4, connection capacity: idle connections held open on one server process, and what
 * each costs in RSS and heap, per transport: SignalR over WebSockets, SSE and long polling,
 * and plain SSE; the raw `ws` and Socket.IO peers for comparison. Every connection is
 * subscribed to a job (one of 100) and proven alive at the end: one event per job must reach
 * every connection. Memory is read after two forced full GCs, before and after connecting.
 * Run alone: `npx tsx bench/scenarios/capacity.ts [--quick|--smoke]`.
 */
import type { ClientKind } from '../clients/loadClient.ts';
import { sleep } from '../lib/clock.ts';
import type { BenchContext } from '../lib/context.ts';
import { openFileLimit } from '../lib/machine.ts';
import { now } from '../lib/clock.ts';
import type { MemoryFigures } from '../server/harness.ts';
import { type SystemUnderTest, startPeer, startStatuscast } from '../lib/systems.ts';
import { runAlone } from './runAlone.ts';

type Measured = MemoryFigures & { heap: number };

export interface CapacityRun {
  readonly system: 'statuscast' | 'ws' | 'socketio';
  readonly kind: ClientKind;
  readonly requested: number;
  readonly opened: number;
  readonly failed: number;
  readonly connectSeconds: number;
  readonly connectionsPerSecond: number;
  /** Connections that received the liveness event (every one should). */
  readonly alive: number;
  readonly baseline: Measured;
  readonly loaded: Measured;
  readonly rssPerConnectionKiB: number;
  readonly heapPerConnectionKiB: number;
  readonly externalPerConnectionKiB: number;
  readonly errors: readonly string[];
}

export interface CapacityResult {
  /** The per-process open-file limit bounds the count: every connection is a socket. */
  readonly openFileLimit: { readonly soft: number; readonly hard: number };
  readonly note?: string;
  readonly runs: readonly CapacityRun[];
}

const KINDS: readonly { system: 'statuscast' | 'ws' | 'socketio'; kind: ClientKind }[] = [
  { system: 'statuscast', kind: 'signalr-ws' },
  { system: 'statuscast', kind: 'sse' },
  { system: 'statuscast', kind: 'signalr-sse' },
  { system: 'statuscast', kind: 'signalr-lp' },
  { system: 'ws', kind: 'ws-peer' },
  { system: 'socketio', kind: 'socketio-peer' },
];

const JOBS = 100;
/** Sockets the server needs besides the measured connections (pooled HTTP, store, IPC). */
const FD_MARGIN = 400;

export async function capacity(ctx: BenchContext): Promise<CapacityResult> {
  const limit = openFileLimit();
  const wanted = ctx.profile.capacity.connections;
  const possible = Math.min(wanted, limit.hard - FD_MARGIN);
  let note: string | undefined;
  if (possible < wanted) {
    note =
      `open-file limit ${limit.hard} per process (ulimit -Hn) leaves room for ${possible} connections, not ${wanted}: ` +
      'raise it (e.g. `ulimit -n 65536` as root, or LimitNOFILE) to measure more';
    ctx.log(`  ${note}`);
  }
  const runs: CapacityRun[] = [];
  for (const { system, kind } of KINDS) {
    runs.push(await measure(ctx, system, kind, possible));
  }
  return { openFileLimit: limit, ...(note ? { note } : {}), runs };
}

async function measure(ctx: BenchContext, system: 'statuscast' | 'ws' | 'socketio', kind: ClientKind, count: number): Promise<CapacityRun> {
  const { pool } = ctx;
  const sut: SystemUnderTest = system === 'statuscast' ? await startStatuscast() : await startPeer(system);
  try {
    await pool.resetAll();
    const keys = Array.from({ length: JOBS }, (_, i) => `cap-${i}`);
    const base = await sut.prepare(keys);
    const tickets = Array.from({ length: count }, (_, i) => base.get(keys[i % JOBS]!)!);
    // Warm-up: a few connections come and go, so the baseline has the code paths loaded.
    await pool.open(kind, sut.url, tickets.slice(0, Math.min(50, count)));
    await pool.closeAll();
    await sleep(ctx.profile.mode === 'smoke' ? 50 : 500);
    const baseline = await sut.child.request<Measured>('gcAndMeasure');
    const t0 = now();
    const opened = await pool.open(kind, sut.url, tickets, { concurrency: 200 });
    const connectSeconds = (now() - t0) / 1000;
    await sleep(ctx.profile.mode === 'smoke' ? 200 : 2_000);
    const loaded = await sut.child.request<Measured>('gcAndMeasure');
    // Alive: one event per job reaches every connection.
    for (let i = 0; i < keys.length; i += 100) await sut.publish(keys.slice(i, i + 100), 0);
    const check = await pool.finalCheck(Object.fromEntries(sut.finals), 60_000);
    const alive = opened.opened - check.behind - check.lost;
    const per = (a: number, b: number) => Math.round(((a - b) / Math.max(1, opened.opened) / 1024) * 100) / 100;
    const run: CapacityRun = {
      system,
      kind,
      requested: count,
      opened: opened.opened,
      failed: opened.failed,
      connectSeconds: Math.round(connectSeconds * 10) / 10,
      connectionsPerSecond: Math.round(opened.opened / connectSeconds),
      alive,
      baseline,
      loaded,
      rssPerConnectionKiB: per(loaded.rssBytes, baseline.rssBytes),
      heapPerConnectionKiB: per(loaded.heapUsedBytes, baseline.heapUsedBytes),
      externalPerConnectionKiB: per(loaded.externalBytes + loaded.arrayBuffersBytes, baseline.externalBytes + baseline.arrayBuffersBytes),
      errors: [...opened.errors, ...check.errors].slice(0, 5),
    };
    ctx.log(
      `    ${system} ${kind}: ${opened.opened}/${count} open (${run.connectionsPerSecond}/s), alive ${alive}, ` +
        `RSS ${Math.round(loaded.rssBytes / 2 ** 20)} MiB (+${run.rssPerConnectionKiB} KiB/conn), heap +${run.heapPerConnectionKiB} KiB/conn`,
    );
    if (run.errors.length) ctx.log(`    errors: ${run.errors.join(' | ')}`);
    await pool.closeAll();
    return run;
  } finally {
    await pool.closeAll().catch(() => undefined);
    await sut.stop();
  }
}

runAlone(import.meta.url, 'capacity');
