import { loadavg } from 'node:os';
import type { LoadPool } from './loadPool.ts';
import type { OpenFilesRaise } from './openFiles.ts';
import type { Profile } from './profiles.ts';

/** What every scenario gets from the runner. */
export interface BenchContext {
  readonly profile: Profile;
  /** The load workers, shared by every scenario of the run. */
  readonly pool: LoadPool;
  /** Whether extra CPU-profiled passes run (`--cpu-prof`). */
  readonly cpuProfile: boolean;
  /** Where `.cpuprofile` files go (never committed; only their summary is). */
  readonly profileDir: string;
  /** What the runner did about the open-file limit at the start. */
  readonly openFiles?: OpenFilesRaise;
  log(message: string): void;
}

/** `os.loadavg()` rounded, for the conditions of a run. */
export function load(): [number, number, number] {
  return loadavg().map((v) => Math.round(v * 100) / 100) as [number, number, number];
}

/** Samples the load average every few seconds while a scenario runs. */
export class LoadSampler {
  private readonly samples: { t: number; load1: number }[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly started = Date.now();

  constructor(intervalMs = 5_000) {
    this.timer = setInterval(() => this.samples.push({ t: Math.round((Date.now() - this.started) / 1000), load1: load()[0] }), intervalMs);
    this.timer.unref();
  }

  stop(): { readonly max1: number; readonly mean1: number; readonly samples: number } {
    clearInterval(this.timer);
    const values = this.samples.map((s) => s.load1);
    if (values.length === 0) values.push(load()[0]);
    return {
      max1: Math.max(...values),
      mean1: Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 100) / 100,
      samples: values.length,
    };
  }
}
