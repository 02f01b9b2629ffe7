/**
 * Scenario 3, many jobs: 2,000 jobs with 5 subscribers each (half SignalR over WebSockets, half
 * SSE), events spread over the jobs: what routing each event to its own group costs, next to
 * the raw `ws` peer (a map of rooms) and Socket.IO rooms. `manyJobsPostgres` runs statuscast
 * alone the same way on the PostgreSQL store (a fresh database on the machine's server).
 * Run alone: `npx tsx bench/scenarios/manyJobs.ts [--quick|--smoke]`.
 */
import type { BenchContext } from '../lib/context.ts';
import { withBenchDatabase } from '../lib/postgres.ts';
import { deliveryRun, type DeliveryResult } from './deliveryRun.ts';
import { SYSTEMS } from './fanout.ts';
import { runAlone } from './runAlone.ts';

export interface ManyJobsResult {
  /** Absent in results written before PostgreSQL joined: SQLite. */
  readonly store?: 'sqlite' | 'postgres';
  readonly jobs: number;
  readonly subscribersPerJob: number;
  readonly runs: readonly DeliveryResult[];
  /** A CPU profile of statuscast's burst (`--cpu-prof`). */
  readonly profiled?: DeliveryResult;
}

export async function manyJobs(ctx: BenchContext): Promise<ManyJobsResult> {
  const plan = ctx.profile.manyJobs;
  const keys = Array.from({ length: plan.jobs }, (_, i) => `many-${i}`);
  const connections = plan.jobs * plan.subscribersPerJob;
  ctx.log(`  ${plan.jobs} jobs × ${plan.subscribersPerJob} subscribers`);
  const runs: DeliveryResult[] = [];
  for (const system of SYSTEMS) {
    runs.push(
      await deliveryRun(ctx, system, {
        label: 'many-jobs',
        keys,
        subscribersPerKey: plan.subscribersPerJob,
        steadyRate: plan.steadyRate,
        steadyMs: plan.steadyMs,
        burstMs: plan.burstMs,
        windowDeliveries: Math.min(ctx.profile.fanout.windowCap, ctx.profile.fanout.windowPerConnection * connections),
        batchMax: 100,
      }),
    );
  }
  if (!ctx.cpuProfile) return { jobs: plan.jobs, subscribersPerJob: plan.subscribersPerJob, runs };
  ctx.log('  profiled statuscast burst');
  const profiled = await deliveryRun(ctx, 'statuscast', {
    label: 'many-jobs-profiled',
    keys: keys.map((key) => `${key}-p`),
    subscribersPerKey: plan.subscribersPerJob,
    steadyRate: plan.steadyRate,
    steadyMs: 0,
    burstMs: Math.min(plan.burstMs, 5_000),
    windowDeliveries: Math.min(ctx.profile.fanout.windowCap, ctx.profile.fanout.windowPerConnection * connections),
    batchMax: 100,
    burstOnly: true,
    profile: true,
  });
  return { jobs: plan.jobs, subscribersPerJob: plan.subscribersPerJob, runs, profiled };
}

/** statuscast alone on the PostgreSQL store, with the plan of `manyJobs`. */
export function manyJobsPostgres(ctx: BenchContext): Promise<ManyJobsResult> {
  const plan = ctx.profile.manyJobs;
  const keys = Array.from({ length: plan.jobs }, (_, i) => `many-${i}`);
  const connections = plan.jobs * plan.subscribersPerJob;
  ctx.log(`  ${plan.jobs} jobs × ${plan.subscribersPerJob} subscribers, statuscast on PostgreSQL`);
  return withBenchDatabase(async (url) => {
    const run = await deliveryRun(ctx, 'statuscast', {
      label: 'many-jobs-postgres',
      keys,
      subscribersPerKey: plan.subscribersPerJob,
      steadyRate: plan.steadyRate,
      steadyMs: plan.steadyMs,
      burstMs: plan.burstMs,
      windowDeliveries: Math.min(ctx.profile.fanout.windowCap, ctx.profile.fanout.windowPerConnection * connections),
      batchMax: 100,
      env: { DATABASE_URL: url },
    });
    return { store: 'postgres', jobs: plan.jobs, subscribersPerJob: plan.subscribersPerJob, runs: [run] };
  });
}

runAlone(import.meta.url, 'manyJobs');
