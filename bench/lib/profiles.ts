/** How big each scenario runs: `full` is the real run, `quick` about a minute, `smoke` a few seconds for CI. */
export type Mode = 'full' | 'quick' | 'smoke';

export interface Profile {
  readonly mode: Mode;
  /** Load-generating processes. */
  readonly workers: number;
  readonly ingest: { readonly phaseMs: number; readonly singleConcurrency: number; readonly batchSize: number; readonly batchConcurrency: number };
  readonly fanout: {
    readonly sizes: readonly number[];
    readonly steadyRate: number;
    readonly steadyMs: number;
    readonly burstMs: number;
    /** Deliveries in flight during the burst, per connection, capped overall. */
    readonly windowPerConnection: number;
    readonly windowCap: number;
    /** The search for the highest rate at which raw ws keeps p99 < 50 ms (see `fanout.ts`). */
    readonly rateSearch: { readonly startDeliveriesPerSecond: number; readonly maxRate: number; readonly probeMs: number; readonly maxProbes: number };
  };
  readonly manyJobs: { readonly jobs: number; readonly subscribersPerJob: number; readonly steadyRate: number; readonly steadyMs: number; readonly burstMs: number };
  /**
   * Idle connections asked per transport, each count in turn (the peers too); a count the
   * open-file limit cannot hold is cut to what it can, once.
   */
  readonly capacity: { readonly counts: readonly number[] };
  readonly storm: { readonly clients: number; readonly behind: number; readonly jobs: number };
  readonly export: { readonly events: number; readonly repeats: number };
  readonly official: { readonly perKind: number; readonly rate: number; readonly ms: number };
  /** Extra profiled passes (CPU profile of the server) for the doc. */
  readonly cpuProfile: boolean;
  /** Longest wait for clients to drain after a phase. */
  readonly drainTimeoutMs: number;
}

export const PROFILES: Record<Mode, Profile> = {
  full: {
    mode: 'full',
    workers: 2,
    ingest: { phaseMs: 8_000, singleConcurrency: 64, batchSize: 100, batchConcurrency: 4 },
    fanout: { sizes: [1_000, 5_000, 10_000], steadyRate: 50, steadyMs: 12_000, burstMs: 8_000, windowPerConnection: 16, windowCap: 100_000, rateSearch: { startDeliveriesPerSecond: 40_000, maxRate: 2_000, probeMs: 3_000, maxProbes: 6 } },
    manyJobs: { jobs: 2_000, subscribersPerJob: 5, steadyRate: 250, steadyMs: 10_000, burstMs: 8_000 },
    capacity: { counts: [20_000, 50_000] },
    storm: { clients: 1_000, behind: 500, jobs: 10 },
    export: { events: 100_000, repeats: 3 },
    official: { perKind: 200, rate: 50, ms: 8_000 },
    cpuProfile: true,
    drainTimeoutMs: 90_000,
  },
  quick: {
    mode: 'quick',
    workers: 2,
    ingest: { phaseMs: 1_500, singleConcurrency: 64, batchSize: 100, batchConcurrency: 4 },
    fanout: { sizes: [1_000, 5_000], steadyRate: 50, steadyMs: 3_000, burstMs: 2_000, windowPerConnection: 16, windowCap: 100_000, rateSearch: { startDeliveriesPerSecond: 40_000, maxRate: 2_000, probeMs: 1_000, maxProbes: 4 } },
    manyJobs: { jobs: 500, subscribersPerJob: 5, steadyRate: 250, steadyMs: 2_000, burstMs: 2_000 },
    capacity: { counts: [1_000, 2_000] },
    storm: { clients: 1_000, behind: 500, jobs: 10 },
    export: { events: 20_000, repeats: 1 },
    official: { perKind: 50, rate: 50, ms: 2_000 },
    cpuProfile: false,
    drainTimeoutMs: 30_000,
  },
  smoke: {
    mode: 'smoke',
    workers: 1,
    ingest: { phaseMs: 300, singleConcurrency: 8, batchSize: 20, batchConcurrency: 2 },
    fanout: { sizes: [20], steadyRate: 50, steadyMs: 400, burstMs: 300, windowPerConnection: 16, windowCap: 100_000, rateSearch: { startDeliveriesPerSecond: 1_000, maxRate: 100, probeMs: 200, maxProbes: 2 } },
    manyJobs: { jobs: 6, subscribersPerJob: 5, steadyRate: 100, steadyMs: 300, burstMs: 300 },
    capacity: { counts: [12] },
    storm: { clients: 10, behind: 20, jobs: 2 },
    export: { events: 300, repeats: 1 },
    official: { perKind: 3, rate: 50, ms: 300 },
    cpuProfile: false,
    drainTimeoutMs: 10_000,
  },
};
