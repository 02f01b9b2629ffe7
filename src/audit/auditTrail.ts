import type { Logger } from 'pino';
import { jobStreamName } from '../domain/job/events.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { EventStore } from '../store/eventStore.ts';
import { encodePosition } from '../store/position.ts';
import type { AuditSigner, Jwks } from './auditKeys.ts';
import { ChainCheck } from './chainCheck.ts';
import { GENESIS_HASH, chainHash } from './chainHash.ts';
import { type BackfilledRange, type SignedCheckpoint, signCheckpoint } from './checkpoint.ts';
import { type ChainEntry, chainLinkOf, readChain } from './readChain.ts';
import type { ChainFailure, ChainFailureReason } from './findChainBreak.ts';

/** One event of a job's history (contract §7) with its chain hashes (§10). */
export interface AuditEvent {
  readonly revision: number;
  readonly position: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly recorded_at: string;
  readonly hash: string;
  readonly prev_hash: string;
  /** Only on events written before the chain: when their hashes were recorded beside them. */
  readonly backfilled_at?: string;
}

export interface AuditTrail {
  /** The public keys that verify checkpoints. */
  readonly jwks: Jwks;
  /**
   * A job's history with hashes from `fromRevision`, at most `maxCount` events, checked as it
   * is read (a break counts in `statuscast_audit_verify_failures_total` and is logged), then
   * a checkpoint signed over the last event given, or over the head when none was.
   * Hashes of events written before the chain are recorded on the way (the lazy upgrade).
   */
  history(jobId: string, options: { fromRevision: number; maxCount?: number }): AsyncGenerator<AuditEvent, SignedCheckpoint | undefined>;
}

/** A chain break the service found, and where: `append`, `history` or `export`. */
export type AuditFailureReport = ChainFailure & { readonly stream: string; readonly during: string };

/** What the service can find itself (signatures and checkpoints are the verifier's concern). */
const SERVICE_REASONS: readonly ChainFailureReason[] = ['data changed', 'event removed', 'inserted', 'not recorded'];

/**
 * Counts a break in `statuscast_audit_verify_failures_total` and logs it. Every reason the
 * service can find is exported from the start, at 0, so an alert can watch for any increase.
 */
export function auditFailureReporter(deps: { metrics: Metrics; logger: Logger }): (failure: AuditFailureReport) => void {
  const { metrics, logger } = deps;
  for (const reason of SERVICE_REASONS) metrics.auditVerifyFailures.inc({ reason }, 0);
  return (failure) => {
    metrics.auditVerifyFailures.inc({ reason: failure.reason });
    logger.warn(
      { stream: failure.stream, revision: failure.revision, reason: failure.reason, during: failure.during },
      `audit chain broken at or near revision ${failure.revision}: ${failure.detail} (npm run verify -- --job names the exact revision)`,
    );
  };
}

export function createAuditTrail(deps: {
  store: EventStore;
  signer: AuditSigner;
  reportFailure: (failure: AuditFailureReport) => void;
}): AuditTrail {
  const { store, signer, reportFailure } = deps;

  async function* history(
    jobId: string,
    options: { fromRevision: number; maxCount?: number },
  ): AsyncGenerator<AuditEvent, SignedCheckpoint | undefined> {
    const stream = jobStreamName(jobId);
    const during = options.maxCount === undefined ? 'export' : 'history';
    // One event before the first asked for gives the hash the check starts from.
    const readFrom = Math.max(0, options.fromRevision - 1);
    const maxCount = options.maxCount === undefined ? undefined : options.maxCount + (options.fromRevision - readFrom);
    let check = new ChainCheck({ revision: 0, hash: GENESIS_HASH });
    let last: { entry: ChainEntry; hash: string } | undefined;
    const backfilled: BackfilledRange[] = [];
    let given = 0;
    for await (const entry of readChain(store, stream, { fromRevision: readFrom, maxCount, recordMissing: `upgrade on ${during}` })) {
      if (entry.event.revision < options.fromRevision) {
        check = new ChainCheck({ revision: entry.event.revision + 1, hash: entry.hash ?? GENESIS_HASH });
        last = { entry, hash: entry.hash ?? GENESIS_HASH };
        continue;
      }
      const failure = check.add(chainLinkOf(entry));
      if (failure) reportFailure({ ...failure, stream, during });
      // An event with neither its own hash nor a recorded one (not written through the chain)
      // is given the hash it would have, so the chain goes on past it; having no hash in its
      // metadata and no `backfilled_at`, the verifier names it.
      const hash = entry.hash ?? chainHash({ ...entry.event, prevHash: last?.hash ?? GENESIS_HASH });
      const prevHash = entry.prevHash ?? last?.hash ?? GENESIS_HASH;
      if (entry.backfilledAt) noteBackfilled(backfilled, entry.event.revision, entry.backfilledAt);
      last = { entry, hash };
      given += 1;
      yield {
        revision: entry.event.revision,
        position: encodePosition(entry.event.position),
        type: entry.event.type,
        data: entry.event.data,
        metadata: entry.event.metadata,
        recorded_at: entry.event.recordedAt.toISOString(),
        hash,
        prev_hash: prevHash,
        ...(entry.backfilledAt && { backfilled_at: entry.backfilledAt.toISOString() }),
      };
    }
    if (given === 0) {
      // Nothing after `fromRevision`: sign the head, so a caught-up reader still gets one.
      const head = await store.streamRevision(stream);
      if (head === null) return undefined;
      if (!last || last.entry.event.revision !== head) {
        for await (const entry of readChain(store, stream, { fromRevision: head, maxCount: 1 })) {
          if (entry.hash) last = { entry, hash: entry.hash };
        }
      }
    }
    if (!last) return undefined;
    return signCheckpoint(signer, {
      job_id: jobId,
      revision: last.entry.event.revision,
      hash: last.hash,
      signed_at: new Date().toISOString(),
      ...(backfilled.length > 0 && { backfilled }),
    });
  }

  return { jwks: { keys: [signer.publicJwk] }, history };
}

function noteBackfilled(ranges: BackfilledRange[], revision: number, recordedAt: Date): void {
  const at = recordedAt.toISOString();
  const last = ranges.at(-1) as { first_revision: number; last_revision: number; recorded_at: string } | undefined;
  if (last && last.last_revision + 1 === revision) {
    last.last_revision = revision;
    if (at > last.recorded_at) last.recorded_at = at;
  } else {
    ranges.push({ first_revision: revision, last_revision: revision, recorded_at: at });
  }
}
