/**
 * `npm run bench`: every scenario in one process tree, the servers under test and the load
 * clients in their own processes, then `bench/results/runs/<timestamp>.json` (not committed)
 * and, for a full run of every scenario, `bench/results/v<bench version>.json` (committed: this
 * run plus a summary of every other full run of the version) and a regenerated
 * `docs/benchmarks.md` with its chart.
 *
 *   npx tsx bench/run.ts            full run (~17 min)
 *   npx tsx bench/run.ts --quick    about a minute, small numbers
 *   npx tsx bench/run.ts --smoke    a few seconds, tiny numbers: proves the scripts work (CI)
 *   options: --only a,b  --out <dir>  --no-doc / --doc  --cpu-prof / --no-cpu-prof
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAllChildren } from './lib/children.ts';
import { type BenchContext, load, LoadSampler } from './lib/context.ts';
import { LoadPool } from './lib/loadPool.ts';
import { machineInfo } from './lib/machine.ts';
import { type Mode, PROFILES, type Profile } from './lib/profiles.ts';
import { auditorExport } from './scenarios/auditorExport.ts';
import { capacity } from './scenarios/capacity.ts';
import { fanout } from './scenarios/fanout.ts';
import type { BenchResults } from './report/results.ts';
import { writeDoc } from './report/writeDoc.ts';
import { BENCH_VERSION } from './report/results.ts';
import { isCommittable, runsDir, writeCommitted } from './report/store.ts';
import { raiseOpenFileLimit } from './lib/openFiles.ts';
import { wantedOpenFiles } from './scenarios/capacity.ts';
import { ingest, ingestPostgres } from './scenarios/ingest.ts';
import { manyJobs, manyJobsPostgres } from './scenarios/manyJobs.ts';
import { officialClients } from './scenarios/officialClients.ts';
import { reconnectStorm } from './scenarios/reconnectStorm.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

type Scenario = (ctx: BenchContext) => Promise<unknown>;

/** Every scenario, in the order a run measures them. */
export const SCENARIOS: Record<string, Scenario> = {
  ingest,
  ingestPostgres,
  fanout,
  manyJobs,
  manyJobsPostgres,
  capacity,
  reconnectStorm,
  auditorExport,
  officialClients,
};

interface Options {
  mode: Mode;
  only: string[] | null;
  out: string;
  /** `--out` given: results go there only, never to the committed file. */
  outGiven: boolean;
  doc: boolean;
  cpuProfile: boolean | null;
}

function parse(argv: readonly string[]): Options {
  const mode: Mode = argv.includes('--smoke') ? 'smoke' : argv.includes('--quick') ? 'quick' : 'full';
  const value = (flag: string) => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : argv.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
  };
  const only = value('--only');
  return {
    mode,
    only: only ? only.split(',').map((s) => s.trim()).filter(Boolean) : null,
    out: resolve(value('--out') ?? runsDir(ROOT)),
    outGiven: value('--out') !== undefined,
    doc: argv.includes('--doc') || (mode === 'full' && !argv.includes('--no-doc') && !only),
    cpuProfile: argv.includes('--cpu-prof') ? true : argv.includes('--no-cpu-prof') ? false : null,
  };
}

function stamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const options = parse(argv);
  const base = PROFILES[options.mode];
  const profile: Profile = { ...base, cpuProfile: options.cpuProfile ?? base.cpuProfile };
  const names = options.only ?? Object.keys(SCENARIOS);
  for (const name of names) if (!SCENARIOS[name]) throw new Error(`unknown scenario ${name}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  const machine = machineInfo();
  const started = new Date();
  const log = (message: string) => process.stdout.write(`${message}\n`);
  log(`statuscast bench (${options.mode}) on ${machine.cpuModel} × ${machine.cores}, Node ${machine.node}, load ${load().join(' ')}`);
  // Before any child starts: they inherit the limit (every connection is a socket).
  const openFiles = raiseOpenFileLimit(wantedOpenFiles(profile.capacity.counts));
  log(`open files: soft ${openFiles.before.soft} → ${openFiles.after.soft}, hard ${openFiles.after.hard} (wanted ${openFiles.wanted}${openFiles.refused ? `; refused: ${openFiles.refused}` : ''})`);
  const profileDir = mkdtempSync(join(tmpdir(), 'statuscast-bench-prof-'));
  const conditions: Record<string, unknown> = { loadBefore: load(), openFiles };
  const results: Record<string, unknown> = {};
  const timings: Record<string, unknown> = {};
  let failures = 0;
  const pool = await LoadPool.start(profile.workers);
  const ctx: BenchContext = { profile, pool, cpuProfile: profile.cpuProfile, profileDir, openFiles, log };
  try {
    for (const name of names) {
      log(`\n▶ ${name}`);
      const sampler = new LoadSampler();
      const t0 = Date.now();
      try {
        results[name] = await SCENARIOS[name]!(ctx);
      } catch (error) {
        failures++;
        results[name] = { error: error instanceof Error ? error.message : String(error) };
        log(`  ✗ ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
      timings[name] = { seconds: Math.round((Date.now() - t0) / 100) / 10, load: sampler.stop() };
    }
  } finally {
    await pool.stop().catch(() => undefined);
    killAllChildren();
    rmSync(profileDir, { recursive: true, force: true });
  }
  conditions['loadAfter'] = load();
  conditions['scenarios'] = timings;
  const finished = new Date();
  const document = {
    schema: 2,
    benchVersion: BENCH_VERSION,
    mode: options.mode,
    complete: options.only === null,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationSeconds: Math.round((finished.getTime() - started.getTime()) / 1000),
    machine,
    conditions,
    settings: profile,
    results,
  };
  mkdirSync(options.out, { recursive: true });
  const file = join(options.out, `${stamp(started)}${options.mode === 'full' ? '' : `-${options.mode}`}.json`);
  writeFileSync(file, `${JSON.stringify(document, null, 1)}\n`);
  log(`\nresults: ${file}`);
  const measured = document as unknown as BenchResults;
  // Only a full run of every scenario replaces the committed file (never quick, smoke, --only or --out).
  let docSource = file;
  if (isCommittable(measured) && !options.outGiven) {
    docSource = writeCommitted(measured, ROOT);
    log(`committed results: ${docSource}`);
  }
  if (options.doc) {
    const written = writeDoc(JSON.parse(readFileSync(docSource, 'utf8')) as BenchResults, docSource, ROOT);
    log(`doc: ${written.doc}, chart: ${written.chart}`);
  }
  log(`done in ${document.durationSeconds} s${failures ? `, ${failures} scenario(s) failed` : ''}`);
  return failures === 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      killAllChildren();
      process.exit(1);
    },
  );
}
