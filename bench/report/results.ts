import type { MachineInfo } from '../lib/machine.ts';
import type { Profile } from '../lib/profiles.ts';
import type { ExportResult } from '../scenarios/auditorExport.ts';
import type { CapacityResult } from '../scenarios/capacity.ts';
import type { DeliveryResult } from '../scenarios/deliveryRun.ts';
import type { FanoutResult } from '../scenarios/fanout.ts';
import type { IngestResult } from '../scenarios/ingest.ts';
import type { ManyJobsResult } from '../scenarios/manyJobs.ts';
import type { ConfirmationResult } from '../scenarios/officialClients.ts';
import type { StormResult } from '../scenarios/reconnectStorm.ts';

type Failed = { readonly error: string };

/**
 * The version of the bench itself: bumped when scenarios change what they measure, so that
 * only runs of one version are compared (the spread on the page). Version 2: the fan-out's
 * same-rate latency at the rate raw ws sustains with p99 < 50 ms, capacity at several counts.
 */
export const BENCH_VERSION = 2;

/** One other full run of the same bench version, as the committed results file keeps it. */
export interface RunSummary {
  readonly startedAt: string;
  readonly commit: string;
  readonly dirty: boolean;
  readonly durationSeconds: number;
  readonly loadBefore: readonly number[];
  /** The target figures (see `targetFigures`). */
  readonly figures: Record<string, number>;
}

/** The results file `bench/run.ts` writes (schema 1 before bench version 2). */
export interface BenchResults {
  readonly schema: 1 | 2;
  /** Missing in files of bench version 1. */
  readonly benchVersion?: number;
  /** The other full runs of this bench version (only in the committed `bench/results/v<N>.json`). */
  readonly history?: readonly RunSummary[];
  /** Every scenario ran (no `--only`): only such full runs count for the committed file and the spread. */
  readonly complete?: boolean;
  readonly mode: Profile['mode'];
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSeconds: number;
  readonly machine: MachineInfo;
  readonly conditions: {
    readonly loadBefore: readonly number[];
    readonly loadAfter: readonly number[];
    readonly openFiles?: import('../lib/openFiles.ts').OpenFilesRaise;
    readonly scenarios: Record<string, { readonly seconds: number; readonly load: { readonly max1: number; readonly mean1: number; readonly samples: number } }>;
  };
  readonly settings: Profile;
  readonly results: {
    readonly ingest?: IngestResult | Failed;
    readonly ingestPostgres?: IngestResult | Failed;
    readonly fanout?: FanoutResult | Failed;
    readonly manyJobs?: ManyJobsResult | Failed;
    readonly manyJobsPostgres?: ManyJobsResult | Failed;
    readonly capacity?: CapacityResult | Failed;
    readonly reconnectStorm?: StormResult | Failed;
    readonly auditorExport?: ExportResult | Failed;
    readonly officialClients?: ConfirmationResult | Failed;
  };
}

export function ok<T extends object>(value: T | Failed | undefined): T | undefined {
  return value && !('error' in value) ? (value as T) : undefined;
}

export function runOf(runs: readonly DeliveryResult[] | undefined, system: string): DeliveryResult | undefined {
  return runs?.find((r) => r.system === system);
}

/** Every statuscast delivery run of a results file, for the integrity total. */
export function statuscastIntegrity(results: BenchResults): { gaps: number; duplicates: number; undelivered: number; mismatches: number; runs: number } {
  const total = { gaps: 0, duplicates: 0, undelivered: 0, mismatches: 0, runs: 0 };
  const add = (i: { gaps: number; duplicates: number; undelivered: number; mismatches?: number }) => {
    total.gaps += i.gaps;
    total.duplicates += i.duplicates;
    total.undelivered += i.undelivered;
    total.mismatches += i.mismatches ?? 0;
    total.runs++;
  };
  const fan = ok(results.results.fanout);
  for (const size of fan?.sizes ?? []) for (const run of size.runs) if (run.system === 'statuscast') add(run.integrity);
  for (const run of ok(results.results.manyJobs)?.runs ?? []) if (run.system === 'statuscast') add(run.integrity);
  for (const run of ok(results.results.manyJobsPostgres)?.runs ?? []) add(run.integrity);
  for (const run of ok(results.results.reconnectStorm)?.runs ?? []) if (run.system === 'statuscast') add(run.integrity);
  for (const pass of ok(results.results.officialClients)?.passes ?? []) if (pass.system === 'statuscast') add(pass.integrity);
  return total;
}
