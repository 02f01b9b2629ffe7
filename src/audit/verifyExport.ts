import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { jobStreamName } from '../domain/job/events.ts';
import type { Jwks } from './auditKeys.ts';
import { GENESIS_HASH, HASH_KEY, PREV_HASH_KEY, chainHash } from './chainHash.ts';
import { type BackfilledRange, type SignedCheckpoint, verifyCheckpoint } from './checkpoint.ts';
import { type ChainFailure, type ChainLink, findChainBreak } from './findChainBreak.ts';

export type ExportVerdict =
  | {
      readonly ok: true;
      readonly jobId: string;
      readonly firstRevision: number;
      readonly lastRevision: number;
      readonly head: string;
      readonly signedAt: string;
      readonly kid: string;
      readonly backfilled: readonly BackfilledRange[];
      /** How many anchors (earlier checkpoints) this export agreed with. */
      readonly anchored: number;
      /** Set for a `--partial` export: the hash its first event follows, taken on trust. */
      readonly chainedFrom?: string;
    }
  | ({ readonly ok: false; readonly jobId: string | undefined } & ChainFailure);

export interface VerifyExportOptions {
  readonly jwks: Jwks;
  /**
   * Accept an export that starts after revision 0 (`?after=`), chaining from the `prev_hash`
   * of its first event. Defaults to false: an export that does not start at 0 lacks events.
   */
  readonly partial?: boolean;
  /**
   * Checkpoints kept from earlier exports of the same job (docs/audit.md, "anchors"): each must
   * verify, and this export must hold the same hash at its revision. That is what shows a
   * rewrite by someone who can also sign.
   */
  readonly anchors?: readonly SignedCheckpoint[];
}

/** Verifies an NDJSON export file (docs/audit.md) offline: the chain, then the signed checkpoint. */
export async function verifyExportFile(file: string, options: VerifyExportOptions): Promise<ExportVerdict> {
  const checkpoint = await lastCheckpoint(file);
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  return verifyExportLines(lines, checkpoint, options);
}

/**
 * Verifies export lines. The checkpoint (the last line) is passed in up front because the
 * job id it names is part of every hash; it must also come last among `lines`.
 */
export async function verifyExportLines(
  lines: AsyncIterable<string>,
  checkpoint: SignedCheckpoint | undefined,
  options: VerifyExportOptions,
): Promise<ExportVerdict> {
  const links: ChainLink[] = [];
  let jobId = checkpoint?.job_id;
  let stream = jobId === undefined ? undefined : jobStreamName(jobId);
  let sawCheckpoint = false;
  let lastHash = GENESIS_HASH;
  const backfilled: BackfilledRange[] = [];

  for await (const text of lines) {
    if (text.trim() === '') continue;
    const expected = (links.at(-1)?.revision ?? -1) + 1;
    let line: Record<string, any>;
    try {
      line = JSON.parse(text) as Record<string, any>;
    } catch {
      return { ok: false, jobId, revision: expected, reason: 'data changed', detail: 'a line of the export is not JSON' };
    }
    if ('checkpoint' in line) {
      if (sawCheckpoint) return { ok: false, jobId, revision: expected, reason: 'inserted', detail: 'the export has a second checkpoint' };
      sawCheckpoint = true;
      continue;
    }
    if (sawCheckpoint) {
      return { ok: false, jobId, revision: expected, reason: 'inserted', detail: 'an event follows the checkpoint' };
    }
    if (!Number.isSafeInteger(line['revision']) || line['revision'] < 0) {
      return { ok: false, jobId, revision: expected, reason: 'data changed', detail: 'an event line has no valid revision' };
    }
    if (stream === undefined) {
      // No checkpoint to name the job: take it from the job's first event, to check the chain.
      const fromData = (line['data'] as Record<string, unknown> | undefined)?.['job_id'];
      jobId = typeof fromData === 'string' ? fromData : '';
      stream = jobStreamName(jobId);
    }
    const link = linkOf(line, stream);
    links.push(link);
    if (line['backfilled_at'] !== undefined) noteRange(backfilled, link.revision, String(line['backfilled_at']));
    lastHash = link.hash ?? lastHash;
  }

  const first = links[0];
  if (first && first.revision !== 0 && !options.partial) {
    return { ok: false, jobId, revision: 0, reason: 'event removed', detail: `the export starts at revision ${first.revision} (give --partial for an export made with ?after=)` };
  }
  const startRevision = first?.revision ?? 0;
  const startHash = options.partial && first ? (first.prevHash ?? GENESIS_HASH) : GENESIS_HASH;
  const broken = findChainBreak(links, { startRevision, startHash });
  if (broken) return { ok: false, jobId, ...broken };

  const lastRevision = links.at(-1)?.revision ?? -1;
  if (!checkpoint || !sawCheckpoint) {
    return { ok: false, jobId, revision: lastRevision + 1, reason: 'checkpoint missing', detail: 'the export does not end with a signed checkpoint: it may have been cut short' };
  }
  const verdict = await verifyCheckpoint(checkpoint, options.jwks);
  if (!verdict.ok) return { ok: false, jobId, revision: checkpoint.revision, reason: 'signature invalid', detail: verdict.detail };
  const signed = verdict.checkpoint;
  if (signed.revision > lastRevision) {
    return { ok: false, jobId, revision: lastRevision + 1, reason: 'event removed', detail: `the signed checkpoint is at revision ${signed.revision}, the export ends at ${lastRevision}` };
  }
  if (signed.revision < lastRevision) {
    return { ok: false, jobId, revision: signed.revision + 1, reason: 'inserted', detail: `the signed checkpoint ends at revision ${signed.revision}, the export goes on to ${lastRevision}` };
  }
  if (signed.hash !== lastHash) {
    return {
      ok: false,
      jobId,
      revision: signed.revision,
      reason: 'signature invalid',
      detail: `the signed head hash is ${signed.hash}, the export's chain ends with ${lastHash}: the chain was rewritten`,
    };
  }
  for (const anchor of options.anchors ?? []) {
    const anchored = await verifyCheckpoint(anchor, options.jwks);
    if (!anchored.ok) return { ok: false, jobId, revision: anchor.revision, reason: 'signature invalid', detail: `anchor: ${anchored.detail}` };
    const { revision, hash, signed_at: signedAt } = anchored.checkpoint;
    if (anchored.checkpoint.job_id !== signed.job_id) {
      return { ok: false, jobId, revision, reason: 'signature invalid', detail: `the anchor is a checkpoint of job ${anchored.checkpoint.job_id}` };
    }
    const link = links[revision - startRevision];
    if (!link) {
      return { ok: false, jobId, revision, reason: 'event removed', detail: `revision ${revision}, anchored by the checkpoint signed at ${signedAt}, is not in this export` };
    }
    if (link.hash !== hash) {
      return {
        ok: false,
        jobId,
        revision,
        reason: 'data changed',
        detail: `the checkpoint signed at ${signedAt} has hash ${hash} at revision ${revision}, this export ${link.hash}: revisions up to ${revision} were rewritten since`,
      };
    }
  }
  return {
    ok: true,
    jobId: signed.job_id,
    anchored: (options.anchors ?? []).length,
    firstRevision: startRevision,
    lastRevision,
    head: lastHash,
    signedAt: signed.signed_at,
    kid: verdict.kid,
    backfilled,
    ...(options.partial && startRevision > 0 ? { chainedFrom: startHash } : {}),
  };
}

/** What one export line claims, and whether its content matches the claim. */
function linkOf(line: Record<string, any>, stream: string): ChainLink {
  const metadata = (line['metadata'] ?? {}) as Record<string, unknown>;
  const own = metadata[HASH_KEY];
  const ownPrev = metadata[PREV_HASH_KEY];
  const legacy = own === undefined;
  // An event is chained by its own metadata, or by a backfill the export names; one with
  // neither was not written through the chain, whatever hash the line shows.
  const hash = typeof line['hash'] === 'string' && (!legacy || line['backfilled_at'] !== undefined) ? (line['hash'] as string) : undefined;
  const prevHash = typeof line['prev_hash'] === 'string' ? (line['prev_hash'] as string) : undefined;
  let intact = false;
  if (hash !== undefined && prevHash !== undefined && (legacy || (own === hash && (ownPrev === undefined || ownPrev === prevHash)))) {
    try {
      intact = chainHash({ stream, revision: line['revision'], type: line['type'], data: line['data'], metadata, prevHash }) === hash;
    } catch {
      intact = false;
    }
  }
  return { revision: line['revision'] as number, hash, prevHash, intact, legacy };
}

function noteRange(ranges: BackfilledRange[], revision: number, recordedAt: string): void {
  const last = ranges.at(-1) as { first_revision: number; last_revision: number; recorded_at: string } | undefined;
  if (last && last.last_revision + 1 === revision) {
    last.last_revision = revision;
    if (recordedAt > last.recorded_at) last.recorded_at = recordedAt;
  } else {
    ranges.push({ first_revision: revision, last_revision: revision, recorded_at: recordedAt });
  }
}

/** The checkpoints in a file: an earlier export, or lines `{"checkpoint": …}` kept on their own. */
export async function checkpointsIn(file: string): Promise<SignedCheckpoint[]> {
  const found: SignedCheckpoint[] = [];
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const text of lines) {
    if (!text.includes('"checkpoint"')) continue;
    try {
      const parsed = JSON.parse(text) as { checkpoint?: SignedCheckpoint };
      if (parsed.checkpoint && typeof parsed.checkpoint === 'object') found.push(parsed.checkpoint);
    } catch {
      // Not a checkpoint line after all.
    }
  }
  return found;
}

/** The checkpoint on the file's last non-empty line, read from its end. */
async function lastCheckpoint(file: string): Promise<SignedCheckpoint | undefined> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 256 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lastLine = buffer.toString('utf8').trimEnd().split('\n').at(-1) ?? '';
    const parsed = JSON.parse(lastLine) as { checkpoint?: SignedCheckpoint };
    return parsed.checkpoint && typeof parsed.checkpoint === 'object' ? parsed.checkpoint : undefined;
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}
