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

/**
 * Deliveries per second a sustained steady phase offers: about half of what this 2-core
 * machine writes in a burst at 5,000–10,000 connections, so that latency is measured
 * within capacity. Sizes whose steady rate offers more get a second phase at this budget.
 */
export const SUSTAINED_DELIVERIES_PER_SECOND = 50_000;

export async function fanout(ctx: BenchContext): Promise<FanoutResult> {
  const { fanout: plan } = ctx.profile;
  const sizes: { connections: number; runs: DeliveryResult[] }[] = [];
  for (const connections of plan.sizes) {
    ctx.log(`  fan-out to ${connections} connections`);
    const runs: DeliveryResult[] = [];
    for (const system of SYSTEMS) {
      runs.push(
        await deliveryRun(ctx, system, {
          label: `fanout-${connections}`,
          keys: [`fanout-${connections}`],
          subscribersPerKey: connections,
          steadyRate: plan.steadyRate,
          ...(plan.steadyRate * connections > SUSTAINED_DELIVERIES_PER_SECOND
            ? { sustainedRate: Math.max(1, Math.floor(SUSTAINED_DELIVERIES_PER_SECOND / connections)) }
            : {}),
          steadyMs: plan.steadyMs,
          burstMs: plan.burstMs,
          windowDeliveries: Math.min(plan.windowCap, plan.windowPerConnection * connections),
          batchMax: 50,
        }),
      );
    }
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
