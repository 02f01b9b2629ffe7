import { performance } from 'node:perf_hooks';
import { now, sleep } from '../lib/clock.ts';
import { send } from '../lib/ipcChild.ts';
import type { Tracked } from './tracker.ts';
import { Tracker } from './tracker.ts';

/**
 * What a client process counts, kept apart per client kind, and the IPC commands that read it.
 * Both the raw-protocol load worker and the official-client worker answer the runner through
 * these, so a figure means the same whichever worker produced it.
 */
export class WorkerCounts<Kind extends string> {
  private readonly trackers = new Map<Kind, Tracker>();
  private progressTimer: NodeJS.Timeout | null = null;
  private cpuStart = process.cpuUsage();
  private eluStart = performance.eventLoopUtilization();
  private phaseStart = performance.now();

  /** `connections` lists the worker's open connections at the moment of asking. */
  constructor(private readonly connections: () => readonly { readonly state: Tracked }[]) {}

  trackerFor(kind: Kind): Tracker {
    let tracker = this.trackers.get(kind);
    if (!tracker) this.trackers.set(kind, (tracker = new Tracker()));
    return tracker;
  }

  all(): Tracker[] {
    return [...this.trackers.values()];
  }

  /** Never reset: the publisher's flow control reads it. */
  totalReceived(): number {
    return this.all().reduce((a, t) => a + t.totalReceived, 0);
  }

  stats() {
    const wallMs = performance.now() - this.phaseStart;
    const cpu = process.cpuUsage(this.cpuStart);
    return {
      byKind: Object.fromEntries([...this.trackers].map(([kind, tracker]) => [kind, tracker.stats()])),
      connections: this.connections().length,
      errors: this.all().flatMap((t) => t.errors),
      cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10,
      eventLoopUtilization: Math.round(performance.eventLoopUtilization(this.eluStart).utilization * 1000) / 1000,
    };
  }

  /** The IPC commands both workers answer the same way. */
  commands() {
    return {
      /** Starts a measured phase: counts and CPU from zero (the received total stays). */
      phase: () => {
        for (const tracker of this.all()) tracker.reset();
        this.cpuStart = process.cpuUsage();
        this.eluStart = performance.eventLoopUtilization();
        this.phaseStart = performance.now();
        return null;
      },

      stats: () => this.stats(),

      /** Forgets every count: the next system under test starts from zero. */
      resetAll: () => {
        this.trackers.clear();
        return null;
      },

      progress: (m: Record<string, any>) => {
        if (this.progressTimer) clearInterval(this.progressTimer);
        this.progressTimer = null;
        const interval = Number(m['intervalMs'] ?? 0);
        if (interval > 0) this.progressTimer = setInterval(() => send('progress', { total: this.totalReceived() }), interval);
        return { total: this.totalReceived() };
      },

      /** Waits until every connection reached its key's final revision; the rest count as gaps. */
      finalCheck: async (m: Record<string, any>) => {
        const finals = m['finals'] as Record<string, number>;
        const finalOf = (state: Tracked) => finals[state.key] ?? 0;
        const deadline = now() + Number(m['timeoutMs'] ?? 10_000);
        const behind = () => this.connections().filter((c) => !c.state.lost && c.state.last < finalOf(c.state));
        while (behind().length > 0 && now() < deadline) await sleep(20);
        const late = behind();
        const tailGaps = late.reduce((a, c) => a + finalOf(c.state) - c.state.last, 0);
        const beyond = this.connections().filter((c) => c.state.last > finalOf(c.state)).length;
        return { behind: late.length, tailGaps, beyond, ...this.stats() };
      },
    };
  }
}
