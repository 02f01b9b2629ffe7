/**
 * Scenario 5, reconnect storm: 1,000 clients lose their connections at once, each falls 500
 * events behind, and all reconnect together. statuscast clients resume by revision (SignalR:
 * negotiate, connect, `Subscribe(job, last)`; SSE: `Last-Event-ID`) and get the missed events
 * from the store in one `timeline.bulk`; Socket.IO clients resume with connection-state
 * recovery (the missed packets from its in-memory buffer). Measured: time until every client
 * holds every revision, peak server RSS, events per second served.
 * Run alone: `npx tsx bench/scenarios/reconnectStorm.ts [--quick|--smoke]`.
 */
import { join } from 'node:path';
import type { ClientKind, Ticket } from '../clients/loadClient.ts';
import { now, sleep } from '../lib/clock.ts';
import type { BenchContext } from '../lib/context.ts';
import type { ProfileSummary } from '../lib/cpuProfile.ts';
import { type PeerSystem, type StatuscastSystem, startPeer, startStatuscast } from '../lib/systems.ts';
import type { PhaseStats } from '../server/harness.ts';
import { runAlone } from './runAlone.ts';

export interface StormRun {
  readonly system: 'statuscast' | 'socketio';
  readonly mechanism: string;
  readonly clients: number;
  readonly kinds: readonly ClientKind[];
  readonly behind: number;
  readonly resumed: number;
  readonly caughtUp: number;
  /** From the first reconnect to the moment the last client held its last revision. */
  readonly allCaughtUpMs: number;
  readonly eventsServed: number;
  readonly eventsPerSecond: number;
  readonly peakRssBytes: number;
  readonly baselineRssBytes: number;
  readonly server: PhaseStats;
  readonly integrity: { readonly gaps: number; readonly duplicates: number; readonly undelivered: number; readonly mismatches: number; readonly failed: number };
  readonly errors: readonly string[];
  readonly profile?: ProfileSummary;
}

export interface StormResult {
  readonly runs: readonly StormRun[];
}

export async function reconnectStorm(ctx: BenchContext): Promise<StormResult> {
  const runs: StormRun[] = [await storm(ctx, 'statuscast', false), await storm(ctx, 'socketio', false)];
  if (ctx.cpuProfile) {
    ctx.log('    profiling the statuscast storm');
    const profiled = await storm(ctx, 'statuscast', true);
    runs[0] = { ...runs[0]!, profile: profiled.profile! };
  }
  return { runs };
}

async function storm(ctx: BenchContext, system: 'statuscast' | 'socketio', profiled: boolean): Promise<StormRun> {
  const { pool, profile } = ctx;
  const { clients, behind, jobs } = profile.storm;
  const sut: StatuscastSystem | PeerSystem = system === 'statuscast' ? await startStatuscast() : await startPeer('socketio', { recovery: true });
  try {
    await pool.resetAll();
    const keys = Array.from({ length: jobs }, (_, i) => `storm-${i}`);
    const base = await sut.prepare(keys);
    const kinds: ClientKind[] = system === 'statuscast' ? ['signalr-ws', 'sse'] : ['socketio-peer'];
    const byKind = new Map<ClientKind, Ticket[]>();
    for (let i = 0; i < clients; i++) {
      const kind = kinds[i % kinds.length]!;
      byKind.set(kind, [...(byKind.get(kind) ?? []), base.get(keys[i % jobs]!)!]);
    }
    for (const [kind, tickets] of byKind) {
      const opened = await pool.open(kind, sut.url, tickets, { recovery: system === 'socketio' });
      if (opened.failed) ctx.log(`    ${opened.failed} ${kind} failed to connect: ${opened.errors[0]}`);
    }
    // Live first: two events per job reach everyone.
    for (let round = 0; round < 2; round++) await sut.publish(keys, now());
    await pool.finalCheck(Object.fromEntries(sut.finals), 30_000);

    await pool.drop();
    await waitForNoConnections(sut);
    // While they are away, every job moves `behind` events on.
    for (let done = 0; done < behind; done += 250) {
      const n = Math.min(250, behind - done);
      for (const key of keys) await sut.publish(Array.from({ length: n }, () => key), 0);
    }
    if (system === 'statuscast') await (sut as StatuscastSystem).dispatched();
    await pool.phase();
    const baseline = await sut.child.request<{ rssBytes: number }>('memory');
    await sut.child.request('phase');
    if (profiled) await sut.child.request('profileStart');
    const result = await pool.resume(Object.fromEntries(sut.finals), profile.drainTimeoutMs, 250);
    const server = await sut.child.request<PhaseStats>('phaseStats');
    const profileSummary = profiled
      ? await sut.child.request<ProfileSummary>('profileStop', { file: join(ctx.profileDir, `storm-${system}.cpuprofile`), root: process.cwd() })
      : undefined;
    const check = await pool.finalCheck(Object.fromEntries(sut.finals), 10_000);
    const allCaughtUpMs = result.lastCaughtUpAt > 0 ? Math.round(result.lastCaughtUpAt - result.startedAt) : -1;
    const served = result.catchUpEvents + result.received;
    const run: StormRun = {
      system,
      mechanism: system === 'statuscast' ? 'resume by revision (Subscribe after r / Last-Event-ID), catch-up read from the store' : 'connection-state recovery (in-memory packet buffer)',
      clients,
      kinds,
      behind,
      resumed: result.resumed,
      caughtUp: result.caughtUp,
      allCaughtUpMs,
      eventsServed: served,
      eventsPerSecond: allCaughtUpMs > 0 ? Math.round(served / (allCaughtUpMs / 1000)) : 0,
      peakRssBytes: server.peakRssBytes,
      baselineRssBytes: baseline.rssBytes,
      server,
      integrity: {
        gaps: result.gaps + check.gaps,
        duplicates: result.duplicates + check.duplicates,
        undelivered: check.undelivered,
        mismatches: result.mismatches + check.mismatches,
        failed: result.failed,
      },
      errors: [...(result as { resumeErrors?: string[] }).resumeErrors ?? [], ...result.errors].slice(0, 5),
      ...(profileSummary ? { profile: profileSummary } : {}),
    };
    ctx.log(
      `    ${system}${profiled ? ' (profiled)' : ''}: ${run.caughtUp}/${clients} caught up ${behind} events in ${allCaughtUpMs} ms ` +
        `(${run.eventsPerSecond} events/s), peak RSS ${Math.round(run.peakRssBytes / 2 ** 20)} MiB, server CPU ${server.cpuPercent}%; ` +
        `gaps ${run.integrity.gaps}, dups ${run.integrity.duplicates}, undelivered ${run.integrity.undelivered}, failed ${run.integrity.failed}`,
    );
    if (run.errors.length) ctx.log(`    errors: ${run.errors.join(' | ')}`);
    await pool.closeAll();
    return run;
  } finally {
    await pool.closeAll().catch(() => undefined);
    await sut.stop();
  }
}

/** The server has noticed every drop (no half-open connections left to write to). */
async function waitForNoConnections(sut: StatuscastSystem | PeerSystem): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ('counts' in sut) {
      const counts = await sut.counts();
      const open = counts.hubConnections + (counts.connections['sse'] ?? 0);
      if (open === 0 && counts.liveSubscribers === 0) return;
    } else if ((await sut.connections()) === 0) return;
    await sleep(20);
  }
  throw new Error('the server still holds connections 30 s after the drop');
}

runAlone(import.meta.url, 'reconnectStorm');
