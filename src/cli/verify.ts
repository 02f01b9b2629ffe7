import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Jwks } from '../audit/auditKeys.ts';
import { localAuditJwks } from '../audit/auditKeys.ts';
import { type ExportVerdict, checkpointsIn, verifyExportFile } from '../audit/verifyExport.ts';
import { jobStreams, verifyStoredStream } from '../audit/verifyStore.ts';
import { loadConfig } from '../config.ts';
import { jobIdOfStream, jobStreamName } from '../domain/job/events.ts';

/**
 * `npm run verify -- export.ndjson [--jwks keys.json|URL] [--anchor earlier.ndjson]… [--partial]`
 * checks an NDJSON export offline: the hash chain, the signed checkpoint, and agreement with
 * checkpoints kept from earlier exports (docs/audit.md).
 * `npm run verify -- --job <id>` / `--all` walk the configured store instead.
 * Exit 0: verified. Exit 1: the first revision that does not match, and why. Exit 2: usage.
 */
const USAGE = [
  'npm run verify -- <export.ndjson> [--jwks <keys.json or URL>] [--anchor <earlier export or checkpoints>]… [--partial]',
  'npm run verify -- --job <job id> | --all        (walks the store DATA_DIR / EVENTSTORE_CONNECTION_STRING name)',
].join('\n       ');

let parsed;
try {
  parsed = parseArgs({
    options: {
      jwks: { type: 'string' },
      anchor: { type: 'string', multiple: true },
      job: { type: 'string' },
      all: { type: 'boolean' },
      partial: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: true,
  });
} catch (error) {
  usage(error instanceof Error ? error.message : String(error));
}
const { values: args, positionals } = parsed!;
const modes = [positionals.length > 0, args.job !== undefined, args.all === true].filter(Boolean).length;
if (modes !== 1 || positionals.length > 1) usage('give one export file, or --job <id>, or --all');

try {
  process.exitCode = positionals[0] ? await verifyFile(positionals[0]) : await verifyStore();
} catch (error) {
  console.error(`statuscast verify: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}

async function verifyFile(file: string): Promise<number> {
  const jwks = await loadJwks();
  const anchors = (await Promise.all((args.anchor ?? []).map(checkpointsIn))).flat();
  if ((args.anchor ?? []).length > 0 && anchors.length === 0) throw new Error('no checkpoint found in the --anchor files');
  const verdict = await verifyExportFile(file, { jwks, partial: args.partial === true, anchors });
  if (!verdict.ok) {
    console.log(`NOT VERIFIED job ${verdict.jobId ?? '(unknown)'}: revision ${verdict.revision}: ${verdict.reason} (${verdict.detail})`);
    return 1;
  }
  console.log(`verified job ${verdict.jobId}: revisions ${verdict.firstRevision}–${verdict.lastRevision}, head ${verdict.head}`);
  console.log(`  signed at ${verdict.signedAt} by key ${verdict.kid}`);
  if (verdict.anchored > 0) console.log(`  agrees with ${verdict.anchored} earlier checkpoint(s) given with --anchor`);
  if (verdict.chainedFrom) console.log(`  partial export: chained from ${verdict.chainedFrom}, revisions before ${verdict.firstRevision} not checked`);
  noteBackfilled(verdict);
  return 0;
}

function noteBackfilled(verdict: Extract<ExportVerdict, { ok: true }>): void {
  for (const range of verdict.backfilled) {
    console.log(
      `  revisions ${range.first_revision}–${range.last_revision} predate the chain: their hashes were recorded at ${range.recorded_at}, ` +
        'so they show no change since then, not since they were written',
    );
  }
}

async function loadJwks(): Promise<Jwks> {
  const source = args.jwks;
  if (source === undefined) {
    const local = await localAuditJwks(loadConfig().dataDir);
    if (!local) throw new Error('give --jwks (a file, or the service URL …/.well-known/statuscast-audit-keys.json): no audit key in DATA_DIR');
    return local;
  }
  const text = /^https?:\/\//.test(source) ? await fetchText(source) : readFileSync(source, 'utf8');
  const jwks = JSON.parse(text) as Jwks;
  if (!Array.isArray(jwks.keys)) throw new Error(`${source} is not a JWKS ({"keys": [...]})`);
  return jwks;
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.text();
}

async function verifyStore(): Promise<number> {
  // Loaded only for a store walk: verifying a file needs no database driver.
  const { createEventStore } = await import('../store/createEventStore.ts');
  const store = await createEventStore(loadConfig());
  try {
    const streams = args.job !== undefined ? [jobStreamName(args.job)] : jobStreams(store);
    let verified = 0;
    let failed = 0;
    for await (const stream of streams) {
      const verdict = await verifyStoredStream(store, stream);
      const jobId = jobIdOfStream(stream) ?? stream;
      if (verdict.ok) {
        verified += 1;
        if (args.job !== undefined) {
          console.log(`verified job ${jobId}: revisions 0–${verdict.lastRevision}, head ${verdict.head}`);
          if (verdict.backfilledUpTo !== undefined) console.log(`  revisions 0–${verdict.backfilledUpTo} predate the chain (hashes recorded by a backfill)`);
        }
      } else {
        failed += 1;
        console.log(`NOT VERIFIED job ${jobId}: revision ${verdict.revision}: ${verdict.reason} (${verdict.detail})`);
      }
    }
    if (args.all) console.log(`${verified} jobs verified, ${failed} not`);
    return failed > 0 ? 1 : 0;
  } finally {
    await store.close();
  }
}

function usage(problem: string): never {
  console.error(`${problem}\nusage: ${USAGE}`);
  process.exit(2);
}
