import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_VERSION, type BenchResults, type RunSummary } from './results.ts';
import { targetFigures } from './targets.ts';

/**
 * Where results go. Every run writes its full file to `bench/results/runs/` (not committed);
 * a full run of every scenario also rewrites `bench/results/v<version>.json`, the one file per
 * bench version the repository keeps: that run in full, plus a summary of the target figures
 * of every other full run of the same version, so the page's spread can be rebuilt from the
 * committed file alone.
 */
export function runsDir(root: string): string {
  return join(root, 'bench', 'results', 'runs');
}

export function committedFile(root: string, version = BENCH_VERSION): string {
  return join(root, 'bench', 'results', `v${version}.json`);
}

export function summarize(results: BenchResults): RunSummary {
  return {
    startedAt: results.startedAt,
    commit: results.machine.gitCommit,
    dirty: results.machine.gitDirty,
    durationSeconds: results.durationSeconds,
    loadBefore: results.conditions.loadBefore,
    figures: targetFigures(results),
  };
}

/** A full run of every scenario of this bench version (not quick, smoke or `--only`). */
export function isCommittable(results: BenchResults): boolean {
  return results.mode === 'full' && results.complete === true && results.benchVersion === BENCH_VERSION;
}

function read(file: string): BenchResults | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  } catch {
    return undefined;
  }
}

/**
 * The other full runs of `results`'s version: the history already committed, the previous
 * committed run itself, and any full runs left in `runs/` — one entry per start time.
 */
export function historyFor(results: BenchResults, root: string): RunSummary[] {
  const byStart = new Map<string, RunSummary>();
  const committed = existsSync(committedFile(root)) ? read(committedFile(root)) : undefined;
  if (committed?.benchVersion === BENCH_VERSION) {
    for (const entry of committed.history ?? []) byStart.set(entry.startedAt, entry);
    if (committed.mode === 'full') byStart.set(committed.startedAt, summarize(committed));
  }
  const dir = runsDir(root);
  for (const name of existsSync(dir) ? readdirSync(dir).filter((f) => /^\d{4}-.*Z\.json$/.test(f)) : []) {
    const run = read(join(dir, name));
    if (run?.mode === 'full' && isCommittable(run) && !byStart.has(run.startedAt)) byStart.set(run.startedAt, summarize(run));
  }
  byStart.delete(results.startedAt);
  return [...byStart.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** Writes `v<version>.json`: this run in full and the history of the others. */
export function writeCommitted(results: BenchResults, root: string): string {
  const file = committedFile(root);
  const history = historyFor(results, root);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ ...results, history }, null, 1)}\n`);
  return file;
}
