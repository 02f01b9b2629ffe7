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
import { LoadPool } from '../lib/loadPool.ts';
import { openFileLimit } from '../lib/machine.ts';
import type { OpenFilesRaise } from '../lib/openFiles.ts';
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
  /** What the runner tried for that limit (see `bench/lib/openFiles.ts`). */
  readonly openFiles?: OpenFilesRaise;
  /** Counts asked for, and what each became under the limit (a count cut to one measured already is skipped). */
  readonly counts?: readonly { readonly requested: number; readonly measured: number | null }[];
  /** Load-worker processes that held the client side. */
  readonly clientProcesses?: number;
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
/** File descriptors a load worker keeps free besides its connections (long polling's second request, pooled HTTP). */
const WORKER_FD_MARGIN = 2_000;

/** What the capacity scenario wants from the open-file limit: its largest count and the margin. */
export function wantedOpenFiles(counts: readonly number[]): number {
  return Math.max(...counts) + FD_MARGIN;
}

export async function capacity(ctx: BenchContext): Promise<CapacityResult> {
  const limit = openFileLimit();
  const possible = limit.soft - FD_MARGIN;
  const notes: string[] = [];
  const counts: { requested: number; measured: number | null }[] = [];
  for (const requested of ctx.profile.capacity.counts) {
    const measured = Math.min(requested, possible);
    const duplicate = counts.some((c) => c.measured === measured);
    counts.push({ requested, measured: duplicate ? null : measured });
    if (measured < requested) {
      notes.push(
        duplicate
          ? `${requested.toLocaleString('en-US')} not measured: the open-file limit (${limit.hard} per process, hard) holds ${possible.toLocaleString('en-US')} connections, already measured`
          : `${requested.toLocaleString('en-US')} asked, ${measured.toLocaleString('en-US')} measured: the open-file limit (${limit.hard} per process, hard) leaves room for ${possible.toLocaleString('en-US')}`,
      );
    }
  }
  if (ctx.openFiles?.refused) notes.push(`raising it to ${ctx.openFiles.wanted} was refused (${ctx.openFiles.refused}); a process needs CAP_SYS_RESOURCE to go above the hard limit`);
  const note = notes.length ? notes.join('; ') : undefined;
  if (note) ctx.log(`  ${note}`);
  const largest = Math.max(0, ...counts.map((c) => c.measured ?? 0));
  // Each load worker holds its share of the connections, under the same per-process limit.
  const workersNeeded = Math.max(ctx.pool.workers.length, Math.ceil(largest / Math.max(1_000, limit.soft - WORKER_FD_MARGIN)));
  const pool = workersNeeded > ctx.pool.workers.length ? await LoadPool.start(workersNeeded, 'capacity-load') : ctx.pool;
  const runs: CapacityRun[] = [];
  try {
    for (const { measured } of counts) {
      if (measured === null) continue;
      for (const { system, kind } of KINDS) runs.push(await measure(ctx, pool, system, kind, measured));
    }
  } finally {
    if (pool !== ctx.pool) await pool.stop().catch(() => undefined);
  }
  return {
    openFileLimit: limit,
    ...(ctx.openFiles ? { openFiles: ctx.openFiles } : {}),
    counts,
    clientProcesses: pool.workers.length,
    ...(note ? { note } : {}),
    runs,
  };
}

async function measure(ctx: BenchContext, pool: LoadPool, system: 'statuscast' | 'ws' | 'socketio', kind: ClientKind, count: number): Promise<CapacityRun> {
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
