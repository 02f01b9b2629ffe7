import pg from 'pg';
import type { Logger } from 'pino';
import { AppendSignal } from '../appendSignal.ts';
import {
  type AllSubscription,
  type EventStore,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  StoreUnavailableError,
} from '../eventStore.ts';
import { createAppendListener } from './appendListener.ts';
import { type FollowTimings, followAll } from './followAll.ts';
import { createGroupCommit } from './groupCommit.ts';
import { migrate } from './migrations.ts';
import { postgresConnection } from './postgresConnection.ts';
import { committedHead, heldBackUpTo, readAllPage, visibleHead } from './readAllPage.ts';
import { EVENT_COLUMNS, EVENTS, type EventRow, ORIGIN, rowPosition, toRecordedEvent } from './rows.ts';
import { isTransient, translateError } from './translateError.ts';

export interface PostgresEventStoreOptions {
  /** `postgres://user:password@host:5432/database`; TLS and other settings as node-postgres reads them. */
  readonly connectionString: string;
  /** Pooled connections for appends and reads. Defaults to 10. The store also holds one `LISTEN` connection. */
  readonly poolMax?: number;
  /**
   * Bounds every statement on the server (`statement_timeout`) and the wait for a pooled
   * connection; a call that exceeds it fails with `StoreUnavailableError`. Defaults to 5 s.
   */
  readonly statementTimeoutMs?: number;
  /** Rows per read page. Defaults to 500. */
  readonly pageSize?: number;
  /** Transactions in flight at once for appends (each carrying every call that waited). Defaults to 2. */
  readonly maxAppendTransactions?: number;
  /** Subscription polling and retry timings; see `FollowTimings` for each default. */
  readonly follow?: Partial<Omit<FollowTimings, 'pageSize'>>;
  /** How long opening the store keeps retrying an unreachable database. Defaults to 30 s. */
  readonly startupTimeoutMs?: number;
  /**
   * How long `readAll` and `headPosition` wait for events committed before the call that an
   * older open transaction still holds back (see `readAllPage.ts`), so that a caller reads
   * its own appends. After that they answer with what followers can see. Kept short because
   * `/readyz` asks both. Defaults to 500 ms.
   */
  readonly visibilityWaitMs?: number;
  readonly logger?: Logger;
}

const DEFAULT_FOLLOW: Omit<FollowTimings, 'pageSize'> = {
  pollIntervalMs: 1_000,
  fallbackPollIntervalMs: 250,
  heldBackPollIntervalMs: 20,
  retryDelayMs: 100,
  maxRetryDelayMs: 2_000,
  maxRetries: Number.POSITIVE_INFINITY,
};

/**
 * The event store port on PostgreSQL (13 or later) through node-postgres: one row per event
 * in `statuscast.events`, created and migrated when the store opens.
 *
 * - Appends take per-stream advisory locks, check the expected revision, answer a retry from
 *   the stored event ids, and write every stream of a call in one transaction (atomic
 *   multi-stream appends). Calls that arrive together share a transaction (group commit).
 * - `$all` is ordered by (transaction id, sequence) and read below the snapshot's xmin, so
 *   a follower never skips an event whose transaction committed late (`readAllPage.ts`).
 * - Subscriptions poll in that order and are woken by `LISTEN/NOTIFY`; they survive dropped
 *   connections and server restarts, resuming from their own position.
 * - Failures to reach the database become `StoreUnavailableError`.
 *
 * Read models stay per node (embedded SQLite beside each node), rebuilt from `$all`; see
 * docs/postgresql.md for why.
 */
export async function createPostgresEventStore(options: PostgresEventStoreOptions): Promise<EventStore> {
  const { logger } = options;
  const pageSize = options.pageSize ?? 500;
  const visibilityWaitMs = options.visibilityWaitMs ?? 500;
  const timings: FollowTimings = { ...DEFAULT_FOLLOW, ...options.follow, pageSize };
  const connection = postgresConnection(options.connectionString, options.statementTimeoutMs ?? 5_000);

  await untilReachable(() => migrate(connection), options.startupTimeoutMs ?? 30_000, logger);

  const pool = new pg.Pool({ ...connection, max: options.poolMax ?? 10, application_name: 'statuscast', idleTimeoutMillis: 30_000 });
  // A pooled connection that the server ends while idle (restart, pg_terminate_backend) is
  // dropped by the pool; without a listener the error would crash the process.
  pool.on('error', (error) => logger?.debug({ err: error }, 'idle PostgreSQL connection closed'));
  const signal = new AppendSignal();
  const listener = createAppendListener({ connection, signal, logger });
  await listener.start();

  const groupCommit = createGroupCommit({
    pool,
    maxInFlight: options.maxAppendTransactions,
    // Followers in this process wake at once; other nodes through the commit's NOTIFY.
    committed: () => signal.notify(),
  });

  const subscriptions = new Set<AllSubscription>();
  let closed = false;
  const closedError = () => new StoreUnavailableError('the PostgreSQL event store is closed');

  async function query<R extends pg.QueryResultRow>(config: pg.QueryConfig): Promise<R[]> {
    if (closed) throw closedError();
    try {
      return (await pool.query<R>(config)).rows;
    } catch (error) {
      throw translateError(error);
    }
  }

  async function* readStream(stream: string, opts: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    let from = opts.fromRevision ?? 0;
    let remaining = opts.maxCount ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      const limit = Math.min(pageSize, remaining);
      const rows = await query<EventRow>({
        name: 'statuscast-read-stream',
        text: `SELECT ${EVENT_COLUMNS} FROM ${EVENTS} WHERE stream = $1 AND revision >= $2 ORDER BY revision LIMIT $3`,
        values: [stream, from, limit],
      });
      for (const row of rows) yield toRecordedEvent(row);
      if (rows.length < limit) return;
      remaining -= rows.length;
      from = rows[rows.length - 1]!.revision + 1;
    }
  }

  /** Waits, within `visibilityWaitMs`, until everything committed so far is visible to followers. */
  async function awaitCommitted(): Promise<void> {
    const owed = await committedHead(pool);
    if (owed === null) return;
    const deadline = Date.now() + visibilityWaitMs;
    while ((await heldBackUpTo(pool, owed)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, timings.heldBackPollIntervalMs));
    }
  }

  async function* readAll(opts: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    if (closed) throw closedError();
    await awaitCommitted().catch((error: unknown) => {
      throw translateError(error);
    });
    let after = opts.after === undefined || opts.after === 'start' ? ORIGIN : opts.after;
    let remaining = opts.maxCount ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      if (closed) throw closedError();
      let rows: EventRow[];
      try {
        rows = await readAllPage(pool, after, pageSize);
      } catch (error) {
        throw translateError(error);
      }
      for (const row of rows) {
        if (opts.filter && !opts.filter.streamNamePrefixes.some((prefix) => row.stream.startsWith(prefix))) continue;
        yield toRecordedEvent(row);
        if (--remaining <= 0) return;
      }
      if (rows.length < pageSize) return;
      after = rowPosition(rows[rows.length - 1]!);
    }
  }

  return {
    appendToStreams(appends) {
      if (closed) return Promise.reject(closedError());
      return groupCommit.submit(appends);
    },
    readStream,
    readAll,
    async streamRevision(stream) {
      const [row] = await query<{ revision: number | null }>({
        name: 'statuscast-stream-revision',
        text: `SELECT max(revision) AS revision FROM ${EVENTS} WHERE stream = $1`,
        values: [stream],
      });
      return row?.revision ?? null;
    },
    async headPosition() {
      if (closed) throw closedError();
      try {
        await awaitCommitted();
        const head = await visibleHead(pool);
        return head ? rowPosition(head) : null;
      } catch (error) {
        throw translateError(error);
      }
    },
    subscribeToAll(subscribeOptions) {
      if (closed) throw closedError();
      const subscription = followAll(subscribeOptions, {
        pool,
        signal,
        timings,
        logger,
        listening: () => listener.listening,
        onClose: (ended) => subscriptions.delete(ended),
      });
      subscriptions.add(subscription);
      return subscription;
    },
    async close() {
      if (closed) return;
      await groupCommit.idle();
      closed = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      await listener.close();
      await pool.end();
    },
  };
}

/** Retries `attempt` while the database is unreachable, up to `timeoutMs`. */
async function untilReachable<T>(attempt: () => Promise<T>, timeoutMs: number, logger: Logger | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let failures = 0; ; failures++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isTransient(error) || Date.now() >= deadline) throw translateError(error);
      if (failures === 0) logger?.warn({ err: error }, 'PostgreSQL is not reachable yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** failures)));
    }
  }
}
