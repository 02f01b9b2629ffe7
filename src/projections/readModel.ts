import type { JobMeta } from '../domain/job/events.ts';
import type { LatestStatus, TimelineEntry } from '../domain/job/timeline.ts';
import type { ReadModelDatabase } from './readModelDatabase.ts';

/**
 * Timeline entries in a snapshot at most: the newest ones. Older entries reach a client that
 * wants them by subscribing after revision 0 (bulk pages) or from `GET /jobs/{id}/history`.
 */
export const MAX_SNAPSHOT_TIMELINE = 500;

/** The snapshot negotiate and `GET /jobs/{id}` return (contract §4). */
export interface JobHistory {
  readonly latest_status: LatestStatus | null;
  /** The newest `MAX_SNAPSHOT_TIMELINE` entries at most, oldest first. */
  readonly timeline_events: readonly TimelineEntry[];
  readonly meta: JobMeta & {
    readonly owner: string;
    readonly revision: number;
    readonly created_at: string | null;
    /** The first revision in `timeline_events` (1 unless the snapshot was cut), `null` when it is empty. */
    readonly timeline_from: number | null;
  };
}

/** One row of `GET /jobs`. */
export interface JobSummary {
  readonly job_id: string;
  readonly owner: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly revision: number;
  readonly meta: JobMeta;
  readonly latest_status: LatestStatus | null;
}

export interface JobPage {
  readonly jobs: readonly JobSummary[];
  /** Pass as `cursor` for the next page; `null` on the last page. */
  readonly next_cursor: string | null;
}

export interface ReadModel {
  /**
   * The job's history as the read model has it. A job the store knows but the projection
   * has not reached yet reads as an empty history at revision 0: the client then catches
   * up by revision, so the snapshot is never wrong, only older.
   */
  history(jobId: string, owner: string): JobHistory;
  /** Jobs newest first; `owner: null` lists every job (admins, auditors). */
  listJobs(query: { owner: string | null; limit: number; cursor: string | null }): JobPage;
}

interface JobRow {
  seq: number;
  job_id: string;
  owner: string;
  meta: string;
  created_at: string;
  updated_at: string;
  revision: number;
  latest: string | null;
}

const EMPTY_META: JobMeta = { stage_order: null, expected_cycles: null };

export function createReadModel(db: ReadModelDatabase): ReadModel {
  const jobById = db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE job_id = ?');
  const newestTimelineOf = db.prepare<[string, number, number], { entry: string; revision: number }>(
    'SELECT entry, revision FROM timeline WHERE job_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?',
  );
  const pageAll = db.prepare<[number, number], JobRow>('SELECT * FROM jobs WHERE seq < ? ORDER BY seq DESC LIMIT ?');
  const pageOwned = db.prepare<[string, number, number], JobRow>(
    'SELECT * FROM jobs WHERE owner = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
  );

  return {
    history(jobId, owner) {
      // Both reads run synchronously on one connection, so they see the same snapshot.
      const row = jobById.get(jobId);
      if (!row) {
        return { latest_status: null, timeline_events: [], meta: { ...EMPTY_META, owner, revision: 0, created_at: null, timeline_from: null } };
      }
      const newest = newestTimelineOf.all(jobId, row.revision, MAX_SNAPSHOT_TIMELINE).reverse();
      return {
        latest_status: row.latest ? (JSON.parse(row.latest) as LatestStatus) : null,
        timeline_events: newest.map((r) => JSON.parse(r.entry) as TimelineEntry),
        meta: {
          ...(JSON.parse(row.meta) as JobMeta),
          owner: row.owner,
          revision: row.revision,
          created_at: row.created_at,
          timeline_from: newest[0]?.revision ?? null,
        },
      };
    },
    listJobs({ owner, limit, cursor }) {
      const before = cursor === null ? Number.MAX_SAFE_INTEGER : decodeCursor(cursor);
      const rows = owner === null ? pageAll.all(before, limit + 1) : pageOwned.all(owner, before, limit + 1);
      const page = rows.slice(0, limit);
      return {
        jobs: page.map(toSummary),
        next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1]!.seq) : null,
      };
    },
  };
}

function toSummary(row: JobRow): JobSummary {
  return {
    job_id: row.job_id,
    owner: row.owner,
    created_at: row.created_at,
    updated_at: row.updated_at,
    revision: row.revision,
    meta: JSON.parse(row.meta) as JobMeta,
    latest_status: row.latest ? (JSON.parse(row.latest) as LatestStatus) : null,
  };
}

/** Cursors are opaque to clients; they hold the last row's sequence number. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`s:${seq}`).toString('base64url');
}

/** Returns the sequence a cursor names; throws `RangeError` for anything else. */
export function decodeCursor(cursor: string): number {
  const match = /^s:([0-9]{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new RangeError('not a cursor issued by this service');
  return Number(match[1]);
}
