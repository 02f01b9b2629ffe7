import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { Handlers } from '../lib/ipcChild.ts';
import { summarizeProfile, type CpuProfile } from '../lib/cpuProfile.ts';

/** Process figures of a server under test, over one measured phase. */
export interface PhaseStats {
  readonly wallMs: number;
  /** CPU time of the whole process (all threads), as a share of one core. */
  readonly cpuPercent: number;
  readonly userCpuMs: number;
  readonly systemCpuMs: number;
  /** Event-loop utilization (0..1): how much of the time the loop was busy. */
  readonly eventLoopUtilization: number;
  /** Event-loop delay percentiles (ms), sampled every 10 ms. */
  readonly eventLoopDelay: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Time in garbage collection during the phase, and the share of wall time. */
  readonly gcMs: number;
  readonly gcPercent: number;
  readonly gcCount: number;
  readonly memory: MemoryFigures;
  /** Highest RSS sampled (every 25 ms) during the phase. */
  readonly peakRssBytes: number;
}

export interface MemoryFigures {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  readonly arrayBuffersBytes: number;
}

export function memoryFigures(): MemoryFigures {
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, externalBytes: m.external, arrayBuffersBytes: m.arrayBuffers };
}

/**
 * Measurement handlers every server under test shares (statuscast and the peers): phase
 * statistics, forced GC for memory readings, and a CPU profile of one phase through the
 * inspector (the same `.cpuprofile` that `node --cpu-prof` writes, limited to the phase).
 */
export function harnessHandlers(): Handlers {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let gcMs = 0;
  let gcCount = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration;
      gcCount += 1;
    }
  }).observe({ entryTypes: ['gc'] });

  let phaseStart = performance.now();
  let cpuStart = process.cpuUsage();
  let eluStart = performance.eventLoopUtilization();
  let gcStartMs = 0;
  let gcStartCount = 0;
  let peakRss = process.memoryUsage.rss();
  const rssSampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > peakRss) peakRss = rss;
  }, 25);
  rssSampler.unref();

  let session: Session | null = null;

  function phaseStats(): PhaseStats {
    const wallMs = performance.now() - phaseStart;
    const cpu = process.cpuUsage(cpuStart);
    const elu = performance.eventLoopUtilization(eluStart);
    const gc = gcMs - gcStartMs;
    return {
      wallMs: Math.round(wallMs),
      cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10,
      userCpuMs: Math.round(cpu.user / 1000),
      systemCpuMs: Math.round(cpu.system / 1000),
      eventLoopUtilization: Math.round(elu.utilization * 1000) / 1000,
      eventLoopDelay: {
        p50: Math.round(delay.percentile(50) / 1e4) / 100,
        p99: Math.round(delay.percentile(99) / 1e4) / 100,
        max: Math.round(delay.max / 1e4) / 100,
      },
      gcMs: Math.round(gc),
      gcPercent: Math.round((gc / wallMs) * 1000) / 10,
      gcCount: gcCount - gcStartCount,
      memory: memoryFigures(),
      peakRssBytes: Math.max(peakRss, process.memoryUsage.rss()),
    };
  }

  return {
    /** Starts a measured phase: every figure of `phaseStats` counts from here. */
    phase() {
      phaseStart = performance.now();
      cpuStart = process.cpuUsage();
      eluStart = performance.eventLoopUtilization();
      gcStartMs = gcMs;
      gcStartCount = gcCount;
      delay.reset();
      peakRss = process.memoryUsage.rss();
      return null;
    },
    phaseStats,
    /** Two full collections, then the memory figures (needs `--expose-gc`). */
    async gcAndMeasure() {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 50));
        gc();
      }
      return { ...memoryFigures(), heap: getHeapStatistics().used_heap_size };
    },
    memory: () => memoryFigures(),
    async profileStart() {
      session = new Session();
      session.connect();
      const post = (method: string, params?: object) =>
        new Promise<any>((resolve, reject) => session!.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))));
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 500 });
      await post('Profiler.start');
      return null;
    },
    /** Stops the profile; writes the `.cpuprofile` to `file` when given and returns its summary. */
    async profileStop(message) {
      if (!session) throw new Error('no profile running');
      const current = session;
      session = null;
      const profile = await new Promise<CpuProfile>((resolve, reject) =>
        current.post('Profiler.stop', (error, result) => (error ? reject(error) : resolve((result as { profile: CpuProfile }).profile))),
      );
      current.disconnect();
      if (typeof message['file'] === 'string') writeFileSync(message['file'], JSON.stringify(profile));
      return summarizeProfile(profile, typeof message['root'] === 'string' ? message['root'] : undefined);
    },
  };
}
