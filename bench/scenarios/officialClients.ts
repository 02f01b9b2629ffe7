/**
 * Confirmation run: the same fan-out with the clients applications use (`@microsoft/signalr`
 * over WebSockets and `eventsource` for statuscast; `socket.io-client` for Socket.IO), next to
 * the raw-protocol clients at the same size, so the raw clients' figures can be trusted.
 * Run alone: `npx tsx bench/scenarios/officialClients.ts [--quick|--smoke]`.
 */
import type { BenchContext } from '../lib/context.ts';
import { sleep } from '../lib/clock.ts';
import { type DeliveryStats, LoadPool, type OfficialKind } from '../lib/loadPool.ts';
import { publishSteady } from '../lib/publishing.ts';
import { type SystemUnderTest, startPeer, startStatuscast } from '../lib/systems.ts';
import type { ClientKind } from '../clients/loadClient.ts';
import { runAlone } from './runAlone.ts';

export interface ConfirmationPass {
  readonly system: 'statuscast' | 'socketio';
  readonly clients: 'raw' | 'official';
  readonly kinds: readonly string[];
  readonly connections: number;
  readonly rate: number;
  readonly latencyMs: DeliveryStats['latencyMs'];
  readonly byKind: Record<string, { latencyMs: DeliveryStats['latencyMs']; received: number }>;
  readonly received: number;
  readonly integrity: { readonly gaps: number; readonly duplicates: number; readonly undelivered: number; readonly lost: number };
  readonly clientCpuPercent: number;
}

export interface ConfirmationResult {
  readonly passes: readonly ConfirmationPass[];
}

export async function officialClients(ctx: BenchContext): Promise<ConfirmationResult> {
  const official = await LoadPool.start(1, 'official', new URL('../clients/officialWorker.ts', import.meta.url));
  const passes: ConfirmationPass[] = [];
  try {
    const plans: { system: 'statuscast' | 'socketio'; raw: ClientKind[]; official: OfficialKind[] }[] = [
      { system: 'statuscast', raw: ['signalr-ws', 'sse'], official: ['official-signalr', 'official-eventsource'] },
      { system: 'socketio', raw: ['socketio-peer'], official: ['official-socketio'] },
    ];
    for (const plan of plans) {
      // One server per system; the raw and the official clients take turns on it, each on its own job.
      const sut: SystemUnderTest = plan.system === 'statuscast' ? await startStatuscast() : await startPeer('socketio');
      try {
        for (const which of ['raw', 'official'] as const) {
          const pool = which === 'raw' ? ctx.pool : official;
          try {
            passes.push(await pass(ctx, pool, sut, plan.system, which, which === 'raw' ? plan.raw : plan.official));
          } finally {
            await pool.closeAll().catch(() => undefined);
          }
        }
      } finally {
        await sut.stop();
      }
    }
  } finally {
    await official.stop();
  }
  return { passes };
}

async function pass(
  ctx: BenchContext,
  pool: LoadPool,
  sut: SystemUnderTest,
  system: 'statuscast' | 'socketio',
  clients: 'raw' | 'official',
  kinds: readonly (ClientKind | OfficialKind)[],
): Promise<ConfirmationPass> {
  const { perKind, rate, ms } = ctx.profile.official;
  await pool.resetAll();
  const key = `confirm-${clients}`;
  const ticket = (await sut.prepare([key])).get(key)!;
  for (const kind of kinds) {
    const opened = await pool.open(kind, sut.url, Array.from({ length: perKind }, () => ticket), { concurrency: 50 });
    if (opened.failed) ctx.log(`    ${opened.failed} ${kind} failed: ${opened.errors[0]}`);
  }
  await sleep(ctx.profile.mode === 'smoke' ? 100 : 1_000);
  await pool.phase();
  await publishSteady(sut, [key], rate, ms);
  const final = await pool.finalCheck(Object.fromEntries(sut.finals), ctx.profile.drainTimeoutMs);
  const result: ConfirmationPass = {
    system,
    clients,
    kinds,
    connections: perKind * kinds.length,
    rate,
    latencyMs: final.latencyMs,
    byKind: Object.fromEntries(Object.entries(final.byKind).map(([k, v]) => [k, { latencyMs: v.latencyMs, received: v.received }])),
    received: final.received,
    integrity: { gaps: final.gaps, duplicates: final.duplicates, undelivered: final.undelivered, lost: final.lost },
    clientCpuPercent: final.workers.reduce((a, w) => a + w.cpuPercent, 0),
  };
  ctx.log(
    `    ${system} ${clients} (${kinds.join(' + ')}) × ${result.connections} at ${rate}/s: p50 ${final.latencyMs.p50} ms, p99 ${final.latencyMs.p99} ms, ` +
      `max ${final.latencyMs.max} ms; gaps ${final.gaps}, dups ${final.duplicates}, undelivered ${final.undelivered}, lost ${final.lost}`,
  );
  await pool.closeAll();
  return result;
}

runAlone(import.meta.url, 'officialClients');
