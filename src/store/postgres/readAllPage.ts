import type pg from 'pg';
import type { GlobalPosition } from '../position.ts';
import { EVENT_COLUMNS, EVENTS, type EventRow, positionParams } from './rows.ts';

/*
 * The order of `$all` on PostgreSQL, and why a follower never skips an event.
 *
 * A sequence alone does not make a log that can be followed by position: transaction A takes
 * position 10, transaction B takes 11 and commits first, a follower reads 11 and moves past
 * it, then A commits and 10 is never read (Marten's async-daemon "gap" bug).
 *
 * So every row records the id of the transaction that wrote it (`transaction_id`, an xid8,
 * 64 bits, never wraps), and readers only look at rows whose transaction id lies below the
 * `xmin` of their own snapshot, `pg_snapshot_xmin(pg_current_snapshot())`: every transaction
 * with a smaller id has ended by then (committed or rolled back), and every transaction that
 * writes later gets a larger id. What a reader sees is therefore final, and anything that
 * becomes visible later sorts after it in (transaction_id, position) order. That pair is the
 * position we hand out (`commit` = transaction id, `prepare` = sequence), so "strictly after
 * my position" can never skip a row. emmett-postgresql reads its log the same way.
 *
 * What it costs, and how that is bounded:
 * - A transaction that stays open delays (never loses) what others commit after it started,
 *   for every follower, until it ends. Our appends last milliseconds; the pool sets
 *   `idle_in_transaction_session_timeout`, so a stalled node cannot hold the log for long;
 *   a node that dies loses its connection and PostgreSQL rolls its transaction back.
 *   Followers that find rows held back this way poll quickly until they appear.
 * - The order is the order transactions got their ids, not commit order. For a stream's
 *   events to stay in revision order in `$all`, an append takes its stream locks *before*
 *   its transaction has an id (see `appendInTransaction.ts`).
 *
 * Weighed and not chosen: one lock around every append in the cluster (the sequence is then
 * commit order, but there is one writer for all nodes), and waiting a "gap timeout" before
 * skipping a hole (a guess that silently loses events whenever it is wrong).
 */

/** Rows of `$all` strictly after `after`, in log order, that no open transaction can precede. */
export async function readAllPage(db: pg.Pool | pg.PoolClient, after: GlobalPosition, limit: number): Promise<EventRow[]> {
  const [tx, seq] = positionParams(after);
  const { rows } = await db.query<EventRow>({
    name: 'statuscast-read-all',
    text: `SELECT ${EVENT_COLUMNS} FROM ${EVENTS}
           WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
             AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
           ORDER BY transaction_id, position
           LIMIT $3`,
    values: [tx, seq, limit],
  });
  return rows;
}

/**
 * Where "from the end" starts, in one snapshot: the last row followers can see, and the rows
 * already committed but still held back behind an older open transaction (at most `limit`).
 * Those were appended before the caller asked, so a follower from the end skips them when
 * they show; what the older transaction commits later is new and must not be skipped, which
 * is why the start cannot simply be the newest committed row.
 */
export async function endOfLog(
  db: pg.Pool | pg.PoolClient,
  limit: number,
): Promise<{ head: { tx: string; position: string } | undefined; heldBack: { tx: string; position: string }[] }> {
  const { rows } = await db.query<{ tx: string; position: string; visible: boolean }>({
    name: 'statuscast-end-of-log',
    text: `(SELECT transaction_id::text AS tx, position, true AS visible FROM ${EVENTS}
            WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY transaction_id DESC, position DESC LIMIT 1)
           UNION ALL
           (SELECT transaction_id::text, position, false FROM ${EVENTS}
            WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY transaction_id, position LIMIT $1)`,
    values: [limit],
  });
  return { head: rows.find((row) => row.visible), heldBack: rows.filter((row) => !row.visible) };
}

/** The last row a follower can see (the head of `$all`), or `undefined` for an empty log. */
export async function visibleHead(db: pg.Pool | pg.PoolClient): Promise<{ tx: string; position: string } | undefined> {
  const { rows } = await db.query<{ tx: string; position: string }>({
    name: 'statuscast-visible-head',
    text: `SELECT transaction_id::text AS tx, position FROM ${EVENTS}
           WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
           ORDER BY transaction_id DESC, position DESC
           LIMIT 1`,
  });
  return rows[0];
}

/**
 * Whether committed rows exist that followers cannot see yet because an older transaction
 * is still open. A follower that was woken but found nothing then polls quickly.
 */
export async function rowsHeldBack(db: pg.Pool | pg.PoolClient): Promise<boolean> {
  const { rows } = await db.query<{ held: boolean }>({
    name: 'statuscast-held-back',
    text: `SELECT EXISTS (SELECT 1 FROM ${EVENTS} WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot())) AS held`,
  });
  return rows[0]?.held ?? false;
}

/** The newest sequence number committed so far, visible to followers or not (`null`: none). */
export async function committedHead(db: pg.Pool | pg.PoolClient): Promise<string | null> {
  const { rows } = await db.query<{ position: string | null }>({
    name: 'statuscast-committed-head',
    text: `SELECT max(position) AS position FROM ${EVENTS}`,
  });
  return rows[0]?.position ?? null;
}

/** Whether any committed row up to sequence `position` is still held back from followers. */
export async function heldBackUpTo(db: pg.Pool | pg.PoolClient, position: string): Promise<boolean> {
  const { rows } = await db.query<{ held: boolean }>({
    name: 'statuscast-held-back-up-to',
    text: `SELECT EXISTS (
             SELECT 1 FROM ${EVENTS}
             WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot()) AND position <= $1::bigint
           ) AS held`,
    values: [position],
  });
  return rows[0]?.held ?? false;
}
