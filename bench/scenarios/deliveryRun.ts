import type { ClientKind, Ticket } from '../clients/loadClient.ts';
import type { BenchContext } from '../lib/context.ts';
import { sleep } from '../lib/clock.ts';
import type { DeliveryStats } from '../lib/loadPool.ts';
import { publishBurst, publishSteady } from '../lib/publishing.ts';
import type { PhaseStats } from '../server/harness.ts';
import { type SystemName, type SystemUnderTest, startSystem, StatuscastSystem } from '../lib/systems.ts';
import type { ProfileSummary } from '../lib/cpuProfile.ts';
import { join } from 'node:path';

export interface DeliveryPlan {
  readonly label: string;
  readonly keys: readonly string[];
  readonly subscribersPerKey: number;
  readonly steadyRate: number;
  readonly steadyMs: number;
  readonly burstMs: number;
  readonly windowDeliveries: number;
  readonly batchMax: number;
  /**
   * A second steady phase at this rate, for sizes where `steadyRate` offers more deliveries
   * per second than the machine can write: latency within capacity, not queueing.
   */
  readonly sustainedRate?: number;
  /**
   * Before the sustained phase, a short search for the highest steady rate at which this
   * system keeps p99 under `p99Ms` (run on raw ws: its result is the rate every system is
   * then measured at). The rate found becomes the sustained rate.
   */
  readonly rateSearch?: RateSearchPlan;
  /** Skip the steady phase (profiled passes). */
  readonly burstOnly?: boolean;
  /** Profile the server during the burst and return the summary. */
  readonly profile?: boolean;
  /** Client kinds to use instead of the system's default mix. */
  readonly kinds?: readonly ClientKind[];
  /** Extra environment for a statuscast server (another store). */
  readonly env?: Record<string, string>;
}

export interface RateSearchPlan {
  /** First rate probed (events/s). */
  readonly startRate: number;
  /** Highest rate probed (the publisher's own limit). */
  readonly maxRate: number;
  readonly probeMs: number;
  /** Probes in all (doubling until p99 reaches the bound, then bisecting). */
  readonly maxProbes: number;
  readonly p99Ms: number;
}

export interface RateSearchResult {
  readonly p99Ms: number;
  readonly probeMs: number;
  readonly probes: readonly { readonly rate: number; readonly p50: number; readonly p99: number; readonly deliveredPerSecond: number }[];
  /** The highest rate probed with p99 under the bound (the lowest probed if none was). */
  readonly rate: number;
}

export interface PhaseResult {
  readonly published: number;
  readonly durationMs: number;
  readonly eventsPerSecond: number;
  /** Deliveries (one event to one client) per second. */
  readonly deliveredPerSecond: number;
  readonly latencyMs: DeliveryStats['latencyMs'];
  readonly byKind: Record<string, { received: number; latencyMs: DeliveryStats['latencyMs'] }>;
  readonly server: PhaseStats;
  /** Server CPU time per delivery (µs): an efficiency figure that a busy machine disturbs less than rates. */
  readonly serverCpuUsPerDelivery: number;
  readonly clientWorkers: DeliveryStats['workers'];
  readonly publishErrors: number;
}

export interface DeliveryResult {
  readonly system: SystemName;
  readonly connections: number;
  readonly kinds: readonly ClientKind[];
  readonly connect: { readonly ms: number; readonly failed: number; readonly errors: readonly string[] };
  readonly steady?: PhaseResult & { readonly rate: number; readonly undelivered: number };
  /** The search for the sustained rate (see `DeliveryPlan.rateSearch`). */
  readonly rateSearch?: RateSearchResult;
  /** The steady phase again at `sustainedRate` (see `DeliveryPlan`). */
  readonly sustained?: PhaseResult & { readonly rate: number; readonly undelivered: number };
  readonly burst: PhaseResult;
  readonly integrity: { readonly gaps: number; readonly duplicates: number; readonly undelivered: number; readonly lost: number; readonly mismatches: number };
  readonly serverCounters?: Record<string, number>;
  readonly profile?: ProfileSummary;
}

function phaseResult(stats: DeliveryStats, server: PhaseStats, published: number, durationMs: number, publishErrors: number): PhaseResult {
  return {
    published,
    durationMs,
    eventsPerSecond: Math.round(published / (durationMs / 1000)),
    deliveredPerSecond: Math.round(stats.received / (durationMs / 1000)),
    latencyMs: stats.latencyMs,
    byKind: Object.fromEntries(Object.entries(stats.byKind).map(([kind, k]) => [kind, { received: k.received, latencyMs: k.latencyMs }])),
    server,
    serverCpuUsPerDelivery: stats.received > 0 ? Math.round(((server.userCpuMs + server.systemCpuMs) * 1000 * 100) / stats.received) / 100 : 0,
    clientWorkers: stats.workers,
    publishErrors,
  };
}

/**
 * One system, one set of subscriptions: connect, publish at a steady rate (latency), then as
 * fast as the clients receive (throughput), then check that every connection saw every
 * revision exactly once.
 */
export async function deliveryRun(ctx: BenchContext, name: SystemName, plan: DeliveryPlan): Promise<DeliveryResult> {
  const { pool, profile } = ctx;
  const sut: SystemUnderTest = await startSystem(name, plan.env);
  try {
    await pool.resetAll();
    const base = await sut.prepare(plan.keys);
    const byKind = new Map<ClientKind, Ticket[]>();
    let index = 0;
    for (let s = 0; s < plan.subscribersPerKey; s++) {
      for (const key of plan.keys) {
        const kinds = plan.kinds ?? sut.kinds;
        const kind = kinds[index++ % kinds.length]!;
        const list = byKind.get(kind) ?? [];
        list.push(base.get(key)!);
        byKind.set(kind, list);
      }
    }
    const connections = index;
    const opened = await Promise.all([...byKind].map(([kind, tickets]) => pool.open(kind, sut.url, tickets, { concurrency: 100 })));
    const connect = {
      ms: Math.max(...opened.map((o) => o.ms)),
      failed: opened.reduce((a, o) => a + o.failed, 0),
      errors: opened.flatMap((o) => o.errors).slice(0, 5),
    };
    ctx.log(`    ${name}: ${connections - connect.failed}/${connections} connected in ${connect.ms} ms`);
    if (connect.failed > 0) ctx.log(`    connect errors: ${connect.errors.join(' | ')}`);
    await sleep(profile.mode === 'smoke' ? 100 : 1_000);
    const finals = () => Object.fromEntries(sut.finals);

    let gaps = 0;
    let duplicates = 0;
    let undelivered = 0;
    let mismatches = 0;
    const steadyPhase = async (rate: number, durationMs = plan.steadyMs, quiet = false): Promise<NonNullable<DeliveryResult['steady']>> => {
      await pool.phase();
      await sut.child.request('phase');
      const outcome = await publishSteady(sut, plan.keys, rate, durationMs);
      const drained = await pool.finalCheck(finals(), profile.drainTimeoutMs);
      const server = await sut.child.request<PhaseStats>('phaseStats');
      const result = { ...phaseResult(drained, server, outcome.published, outcome.durationMs, outcome.errors), rate, undelivered: drained.undelivered };
      gaps += drained.gaps;
      duplicates += drained.duplicates;
      mismatches += drained.mismatches;
      undelivered += drained.undelivered;
      if (!quiet) ctx.log(
        `    ${name} steady ${rate}/s: p50 ${drained.latencyMs.p50} ms, p99 ${drained.latencyMs.p99} ms, max ${drained.latencyMs.max} ms, ` +
          `${result.deliveredPerSecond}/s delivered, server CPU ${server.cpuPercent}%`,
      );
      if (outcome.firstError) ctx.log(`    publish error: ${outcome.firstError}`);
      return result;
    };
    const steady = plan.burstOnly ? undefined : await steadyPhase(plan.steadyRate);
    const rateSearch = plan.burstOnly || !plan.rateSearch ? undefined : await searchRate(plan.rateSearch, (rate, ms) => steadyPhase(rate, ms, true));
    if (rateSearch) ctx.log(`    ${name} rate search (p99 < ${rateSearch.p99Ms} ms): ${rateSearch.probes.map((p) => `${p.rate}/s → ${p.p99} ms`).join(', ')}; rate ${rateSearch.rate}/s`);
    const sustainedRate = rateSearch?.rate ?? plan.sustainedRate;
    const sustained = plan.burstOnly || sustainedRate === undefined ? undefined : await steadyPhase(sustainedRate);

    await pool.phase();
    await sut.child.request('phase');
    await pool.progress(20);
    if (plan.profile) await sut.child.request('profileStart');
    // Flow control counts the connections that are really there.
    const perKey = Math.max(1, (connections - connect.failed) / plan.keys.length);
    const outcome = await publishBurst(sut, pool, plan.keys, perKey, plan.windowDeliveries, plan.batchMax, plan.burstMs);
    const stats = await pool.stats();
    const server = await sut.child.request<PhaseStats>('phaseStats');
    const profileSummary = plan.profile
      ? await sut.child.request<ProfileSummary>('profileStop', { file: join(ctx.profileDir, `${plan.label}-${name}.cpuprofile`), root: process.cwd() })
      : undefined;
    await pool.progress(0);
    const burst = phaseResult(stats, server, outcome.published, outcome.durationMs, outcome.errors);
    if (outcome.firstError) ctx.log(`    publish error: ${outcome.firstError}`);
    const final = await pool.finalCheck(finals(), profile.drainTimeoutMs);
    gaps += final.gaps;
    duplicates += final.duplicates;
    mismatches += final.mismatches;
    undelivered += final.undelivered;
    ctx.log(
      `    ${name} burst: ${burst.deliveredPerSecond}/s delivered (${burst.eventsPerSecond} events/s), p50 ${burst.latencyMs.p50} ms, ` +
        `p99 ${burst.latencyMs.p99} ms, server CPU ${server.cpuPercent}% (${burst.serverCpuUsPerDelivery} µs/delivery), clients ${stats.workers.map((w) => `${w.cpuPercent}%`).join('/')}; ` +
        `gaps ${gaps}, dups ${duplicates}, undelivered ${undelivered}, lost ${final.lost}`,
    );
    if (final.errors.length) ctx.log(`    client errors: ${final.errors.slice(0, 3).join(' | ')}`);
    const serverCounters = sut instanceof StatuscastSystem ? await sut.child.request<Record<string, number>>('metricValues') : undefined;
    await pool.closeAll();
    return {
      system: name,
      connections,
      kinds: [...byKind.keys()],
      connect,
      ...(steady ? { steady } : {}),
      ...(rateSearch ? { rateSearch } : {}),
      ...(sustained ? { sustained } : {}),
      burst,
      integrity: { gaps, duplicates, undelivered, lost: final.lost, mismatches },
      ...(serverCounters ? { serverCounters: slowConsumerCounters(serverCounters) } : {}),
      ...(profileSummary ? { profile: profileSummary } : {}),
    };
  } finally {
    await pool.closeAll().catch(() => undefined);
    await sut.stop();
  }
}

function slowConsumerCounters(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).filter(([key]) => key.startsWith('statuscast_slow_consumer')));
}

/**
 * The highest steady rate whose p99 stays under the bound: doubling from `startRate` until a
 * probe misses (or `maxRate`), then bisecting between the last rate that held and the first
 * that missed, within `maxProbes` short phases in all.
 */
async function searchRate(plan: RateSearchPlan, probe: (rate: number, ms: number) => Promise<PhaseResult>): Promise<RateSearchResult> {
  const probes: { rate: number; p50: number; p99: number; deliveredPerSecond: number }[] = [];
  const measure = async (rate: number) => {
    const phase = await probe(rate, plan.probeMs);
    probes.push({ rate, p50: phase.latencyMs.p50, p99: phase.latencyMs.p99, deliveredPerSecond: phase.deliveredPerSecond });
    return phase.latencyMs.p99 < plan.p99Ms;
  };
  let good = 0;
  let bad = Number.POSITIVE_INFINITY;
  let rate = Math.max(1, Math.min(plan.maxRate, Math.round(plan.startRate)));
  while (probes.length < plan.maxProbes) {
    if (await measure(rate)) good = rate;
    else bad = rate;
    const next = bad === Number.POSITIVE_INFINITY ? Math.min(plan.maxRate, rate * 2) : good === 0 ? Math.floor(rate / 2) : Math.round(Math.sqrt(good * bad));
    if (next < 1 || next === rate || next === good || next === bad || (bad !== Number.POSITIVE_INFINITY && bad - good <= Math.max(1, good * 0.1))) break;
    rate = next;
  }
  const lowest = Math.min(...probes.map((p) => p.rate));
  return { p99Ms: plan.p99Ms, probeMs: plan.probeMs, probes, rate: good || lowest };
}
