import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { cliArgs } from './args.ts';

/**
 * `npm run demo -- [--url http://127.0.0.1:3000] [--user demo] [--token <publisher token>] [--loop] [--pace <ms>]`
 *
 * A simulated worker: publishes a few realistic jobs (queued → stages with progress and
 * cycles → succeeded or failed) through `POST /ingest/status`, so the web page moves within
 * seconds. In dev mode it mints its own publisher token (`POST /dev/tokens`); against a
 * JWKS-mode service pass `--token` (or `STATUSCAST_TOKEN`).
 */
const USAGE =
  'npm run demo -- [--url http://127.0.0.1:3000] [--user demo] [--token <publisher token>] [--loop] [--pace <ms between steps, default 900>]';
const args = cliArgs(
  {
    url: { type: 'string' },
    user: { type: 'string' },
    token: { type: 'string' },
    loop: { type: 'boolean' },
    pace: { type: 'string' },
  },
  USAGE,
);

interface Step {
  /** Multiples of the pace to wait before this step. */
  readonly wait: number;
  readonly stage: string;
  readonly state?: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  readonly message: string;
  readonly progress?: number;
  readonly cycle?: number;
  readonly artifact?: string;
  readonly details?: Record<string, unknown>;
}

interface DemoJob {
  readonly prefix: string;
  readonly title: string;
  readonly meta: { readonly stage_order: readonly string[]; readonly expected_cycles: number | null };
  /** Multiples of the pace to wait before the job starts. */
  readonly startAfter: number;
  readonly steps: readonly Step[];
}

const JOBS: readonly DemoJob[] = [
  {
    prefix: 'report',
    title: 'quarterly report: fetch, parse 40 pages, render a PDF',
    meta: { stage_order: ['queued', 'fetch', 'parse', 'render', 'publish'], expected_cycles: null },
    startAfter: 0,
    steps: [
      { wait: 0, stage: 'queued', state: 'queued', message: 'Waiting for a worker', progress: 0 },
      { wait: 1, stage: 'fetch', message: 'Downloading 3 source files', progress: 0.05 },
      { wait: 1, stage: 'fetch', message: 'Downloaded 3 files (4.2 MB)', progress: 0.15, details: { files: ['sales.csv', 'costs.xlsx', 'notes.md'], bytes: 4_404_019 } },
      { wait: 1, stage: 'parse', message: 'Parsed 12 of 40 pages', progress: 0.3, details: { pages: 12, of: 40 } },
      { wait: 1, stage: 'parse', message: 'Parsed 26 of 40 pages', progress: 0.45, details: { pages: 26, of: 40 } },
      { wait: 1, stage: 'parse', message: 'Parsed 40 of 40 pages', progress: 0.6, details: { pages: 40, of: 40, warnings: ['page 17: table without header'] } },
      { wait: 1.5, stage: 'render', message: 'Rendering 12 charts', progress: 0.75 },
      { wait: 1.5, stage: 'render', message: 'Rendered report.pdf (38 pages)', progress: 0.9, artifact: 'report.pdf' },
      { wait: 1, stage: 'publish', state: 'succeeded', message: 'Published to the shared drive', progress: 1, artifact: 'reports/2026-Q4/report.pdf' },
    ],
  },
  {
    prefix: 'train',
    title: 'model training: 3 epochs, then evaluation and export',
    meta: { stage_order: ['queued', 'prepare', 'train', 'evaluate', 'export'], expected_cycles: 3 },
    startAfter: 1,
    steps: [
      { wait: 0, stage: 'queued', state: 'queued', message: 'Waiting for a GPU', progress: 0 },
      { wait: 1.5, stage: 'prepare', message: 'Loading 120k examples', progress: 0.05, details: { examples: 120_000 } },
      ...[1, 2, 3].flatMap((epoch): Step[] => [
        { wait: 1.5, stage: 'train', message: `Epoch ${epoch}: half way`, cycle: epoch, progress: 0.1 + (epoch - 0.5) * 0.22, details: { epoch, loss: round(1.3 / epoch + 0.1) } },
        {
          wait: 1.5,
          stage: 'train',
          message: `Epoch ${epoch} done, validation accuracy ${(0.71 + epoch * 0.06).toFixed(2)}`,
          cycle: epoch,
          progress: 0.1 + epoch * 0.22,
          details: { epoch, loss: round(1.1 / epoch), val_accuracy: round(0.71 + epoch * 0.06) },
        },
      ]),
      { wait: 1.5, stage: 'evaluate', message: 'Evaluating on the test set', cycle: 3, progress: 0.82 },
      { wait: 1.5, stage: 'export', message: 'Exported model-v7.onnx', cycle: 3, progress: 0.95, artifact: 'model-v7.onnx' },
      { wait: 1, stage: 'export', state: 'succeeded', message: 'Accuracy 0.89 on the test set', cycle: 3, progress: 1, artifact: 'model-v7.onnx', details: { accuracy: 0.89, f1: 0.87 } },
    ],
  },
  {
    prefix: 'deploy',
    title: 'deployment: build, test (fails), deploy never runs',
    meta: { stage_order: ['queued', 'build', 'test', 'deploy'], expected_cycles: null },
    startAfter: 2,
    steps: [
      { wait: 0, stage: 'queued', state: 'queued', message: 'Queued behind 1 deployment', progress: 0 },
      { wait: 1.5, stage: 'build', message: 'Building image statuscast-web:4f2a9c1', progress: 0.2 },
      { wait: 2, stage: 'build', message: 'Image built (212 MB)', progress: 0.4, artifact: 'statuscast-web:4f2a9c1' },
      { wait: 1.5, stage: 'test', message: 'Running 184 tests', progress: 0.5 },
      { wait: 2, stage: 'test', message: '120 of 184 tests passed', progress: 0.65, details: { passed: 120, failed: 0, total: 184 } },
      {
        wait: 2,
        stage: 'test',
        state: 'failed',
        message: '2 of 184 tests failed',
        progress: 0.7,
        details: { passed: 182, failed: 2, total: 184, failures: ['checkout › applies the voucher once', 'search › paginates past 1000 results'] },
      },
    ],
  },
  {
    prefix: 'import',
    title: 'catalogue import: 5 batches of 2,000 rows',
    meta: { stage_order: ['queued', 'download', 'import', 'index'], expected_cycles: 5 },
    startAfter: 3,
    steps: [
      { wait: 0, stage: 'queued', state: 'queued', message: 'Scheduled', progress: 0 },
      { wait: 1.5, stage: 'download', message: 'Downloading catalogue.csv', progress: 0.05 },
      ...[1, 2, 3, 4, 5].map((batch): Step => ({
        wait: 2.5,
        stage: 'import',
        message: `Imported batch ${batch} of 5 (${batch * 2000} rows)`,
        cycle: batch,
        progress: 0.1 + batch * 0.15,
        details: { rows: batch * 2000, rejected: batch === 3 ? 4 : 0 },
      })),
      { wait: 2, stage: 'index', message: 'Rebuilding the search index', cycle: 5, progress: 0.9 },
      { wait: 2, stage: 'index', state: 'succeeded', message: 'Imported 9,996 rows (4 rejected)', cycle: 5, progress: 1, artifact: 'import-report.csv' },
    ],
  },
];

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

const baseUrl = (args.url ?? process.env['STATUSCAST_URL'] ?? `http://127.0.0.1:${process.env['PORT'] ?? '3000'}`).replace(/\/+$/, '');
const owner = args.user ?? 'demo';
const pace = args.pace === undefined ? 900 : Number(args.pace);
if (!Number.isFinite(pace) || pace < 0) fail(`--pace must be a number of milliseconds\nusage: ${USAGE}`, 2);

async function request(path: string, init: { method: string; token?: string; body?: unknown }): Promise<{ status: number; body: any }> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${path}`, {
      method: init.method,
      headers: {
        'content-type': 'application/json',
        ...(init.token && { authorization: `Bearer ${init.token}` }),
      },
      body: init.body === undefined ? null : JSON.stringify(init.body),
    });
  } catch (error) {
    fail(`cannot reach ${baseUrl} (${error instanceof Error ? error.message : error}). Is the service running (npm start)?`);
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: keep the text for the error message.
  }
  return { status: response.status, body };
}

/** A publisher token: `--token`, `STATUSCAST_TOKEN`, or one the dev-mode service mints. */
async function publisherToken(): Promise<string> {
  const given = args.token ?? process.env['STATUSCAST_TOKEN'];
  if (given) return given;
  const minted = await request('/dev/tokens', { method: 'POST', body: { sub: 'demo-worker', roles: ['publisher'] } });
  if (minted.status === 404) fail(`${baseUrl} is not in dev mode (AUTH_JWKS_URL is set): pass --token <a publisher token>.`);
  if (minted.status !== 200 || typeof minted.body?.token !== 'string') fail(`could not mint a demo token: HTTP ${minted.status} ${JSON.stringify(minted.body)}`);
  return minted.body.token as string;
}

async function runJob(job: DemoJob, runId: string, token: string): Promise<string> {
  const jobId = `${job.prefix}-${runId}`;
  await sleep(job.startAfter * pace);
  console.log(`  ▶ ${jobId.padEnd(18)} ${job.title}`);
  let last = 'running';
  for (const [index, step] of job.steps.entries()) {
    await sleep(step.wait * pace);
    const message = {
      message_id: randomUUID(),
      job_id: jobId,
      user_id: owner,
      stage: step.stage,
      state: step.state ?? 'running',
      message: step.message,
      ts: new Date().toISOString(),
      ...(step.progress !== undefined && { progress: step.progress }),
      ...(step.cycle !== undefined && { cycle: step.cycle }),
      ...(step.artifact !== undefined && { artifact: step.artifact }),
      ...(step.details !== undefined && { details: step.details }),
      ...(index === 0 && { meta: job.meta }),
    };
    const answer = await request('/ingest/status', { method: 'POST', token, body: message });
    const outcome = answer.body?.results?.[0]?.outcome;
    if (answer.status !== 202 || outcome !== 'appended') {
      fail(`ingest for ${jobId} failed: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    last = message.state;
  }
  console.log(`  ${last === 'succeeded' ? '✓' : '✕'} ${jobId.padEnd(18)} ${last}`);
  return last;
}

function fail(message: string, code = 1): never {
  console.error(`statuscast demo: ${message}`);
  process.exit(code);
}

const token = await publisherToken();
console.log(`statuscast demo: publishing to ${baseUrl}`);
console.log(`The jobs belong to user "${owner}": open ${baseUrl}/ and sign in as "${owner}".`);
do {
  const runId = Date.now().toString(36).slice(-5);
  await Promise.all(JOBS.map((job) => runJob(job, runId, token)));
  if (args.loop) console.log('Round done; starting another (Ctrl-C to stop).');
} while (args.loop);
console.log(`Done. Run it again for new jobs, or add --loop to keep going.`);
