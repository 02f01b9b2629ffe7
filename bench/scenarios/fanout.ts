/**
 * Scenario 2, fan-out: one job, many subscribers (half SignalR over WebSockets, half plain
 * SSE), at 1,000 / 5,000 / 10,000 connections; the raw `ws` broadcast and Socket.IO rooms
 * with the same payload and the same clients' budget. Run alone: `npx tsx bench/scenarios/fanout.ts [--quick|--smoke]`.
 */
import type { BenchContext } from '../lib/context.ts';
import type { SystemName } from '../lib/systems.ts';
import { deliveryRun, type DeliveryResult } from './deliveryRun.ts';
import { runAlone } from './runAlone.ts';

export interface FanoutResult {
  readonly sizes: readonly { readonly connections: number; readonly runs: readonly DeliveryResult[] }[];
  /** CPU profiles of a burst at the middle size (`--cpu-prof`): statuscast and the raw `ws` peer. */
  readonly profiles?: { readonly connections: number; readonly runs: readonly DeliveryResult[] };
}

export const SYSTEMS: readonly SystemName[] = ['statuscast', 'ws', 'socketio'];

/** Same-rate latency: the highest rate at which raw ws keeps p99 under this bound. */
export const SAME_RATE_P99_MS = 50;

export async function fanout(ctx: BenchContext): Promise<FanoutResult> {
  const { fanout: plan } = ctx.profile;
  const sizes: { connections: number; runs: DeliveryResult[] }[] = [];
  for (const connections of plan.sizes) {
    ctx.log(`  fan-out to ${connections} connections`);
    const common = {
      label: `fanout-${connections}`,
      keys: [`fanout-${connections}`],
      subscribersPerKey: connections,
      steadyRate: plan.steadyRate,
      steadyMs: plan.steadyMs,
      burstMs: plan.burstMs,
      windowDeliveries: Math.min(plan.windowCap, plan.windowPerConnection * connections),
      batchMax: 50,
    };
    // Raw ws first: the rate it sustains with p99 under the bound is the rate all three are
    // measured at again ("within capacity, same offered rate").
    const search = plan.rateSearch;
    const ws = await deliveryRun(ctx, 'ws', {
      ...common,
      rateSearch: {
        startRate: Math.max(1, Math.round(search.startDeliveriesPerSecond / connections)),
        maxRate: search.maxRate,
        probeMs: search.probeMs,
        maxProbes: search.maxProbes,
        p99Ms: SAME_RATE_P99_MS,
      },
    });
    const sameRate = ws.rateSearch?.rate;
    const others: DeliveryResult[] = [];
    for (const system of SYSTEMS.filter((s) => s !== 'ws')) {
      others.push(await deliveryRun(ctx, system, { ...common, ...(sameRate ? { sustainedRate: sameRate } : {}) }));
    }
    const runs = SYSTEMS.map((system) => (system === 'ws' ? ws : others.find((r) => r.system === system)!));
    sizes.push({ connections, runs });
  }
  if (!ctx.cpuProfile) return { sizes };
  const connections = plan.sizes[Math.floor(plan.sizes.length / 2)]!;
  ctx.log(`  profiled bursts at ${connections} connections`);
  const profiled: DeliveryResult[] = [];
  for (const system of ['statuscast', 'ws'] as const) {
    profiled.push(
      await deliveryRun(ctx, system, {
        label: `fanout-${connections}-profiled`,
        keys: [`fanout-${connections}-p`],
        subscribersPerKey: connections,
        steadyRate: plan.steadyRate,
        steadyMs: 0,
        burstMs: Math.min(plan.burstMs, 5_000),
        windowDeliveries: Math.min(plan.windowCap, plan.windowPerConnection * connections),
        batchMax: 50,
        burstOnly: true,
        profile: true,
      }),
    );
  }
  return { sizes, profiles: { connections, runs: profiled } };
}

runAlone(import.meta.url, 'fanout');
