import type pg from 'pg';
import type { AppendResult, StreamAppend } from '../eventStore.ts';
import { APPENDED_CHANNEL } from './appendListener.ts';
import { appendInTransaction, type CallOutcome } from './appendInTransaction.ts';
import { isUniqueViolation, translateError } from './translateError.ts';

export interface GroupCommitOptions {
  readonly pool: pg.Pool;
  /** Transactions in flight at once. Defaults to 2. */
  readonly maxInFlight?: number;
  /** Events per transaction at most (a single larger call still goes alone). Defaults to 5,000. */
  readonly maxEventsPerGroup?: number;
  /** Called after a transaction that wrote something committed (and notified other nodes). */
  readonly committed: () => void;
}

interface PendingCall {
  readonly appends: readonly StreamAppend[];
  readonly events: number;
  /** Groups this call already went back from (an id race); bounds the retries. */
  retries: number;
  resolve(results: AppendResult[]): void;
  reject(error: unknown): void;
}

/** A call that keeps colliding on event ids with concurrent appends gives up after this many groups. */
const MAX_RETRIES = 5;

/**
 * Group commit on PostgreSQL: calls that arrive while a transaction is in flight wait and go
 * together in the next one, each call still all-or-nothing on its own (`appendInTransaction`).
 * Under load a transaction carries many calls and one commit (one WAL flush) acknowledges
 * them all; with no load a call goes at once.
 */
export function createGroupCommit(options: GroupCommitOptions) {
  const { pool, committed } = options;
  const maxInFlight = options.maxInFlight ?? 2;
  const maxEvents = options.maxEventsPerGroup ?? 5_000;
  let pending: PendingCall[] = [];
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];

  function takeGroup(): PendingCall[] {
    let events = 0;
    let count = 0;
    while (count < pending.length && (count === 0 || events + pending[count]!.events <= maxEvents)) {
      events += pending[count]!.events;
      count++;
    }
    const group = pending.slice(0, count);
    pending = pending.slice(count);
    return group;
  }

  function pump(): void {
    while (inFlight < maxInFlight && pending.length > 0) {
      const group = takeGroup();
      inFlight++;
      void run(group).finally(() => {
        inFlight--;
        pump();
        if (inFlight === 0 && pending.length === 0) {
          for (const wake of idleWaiters) wake();
          idleWaiters = [];
        }
      });
    }
  }

  /** Puts calls back at the front of the queue, or fails them once they have retried enough. */
  function requeue(calls: readonly PendingCall[], error: unknown): void {
    const again = calls.filter((call) => {
      call.retries++;
      if (call.retries <= MAX_RETRIES) return true;
      call.reject(translateError(error));
      return false;
    });
    pending = [...again, ...pending];
  }

  async function run(group: PendingCall[]): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      for (const call of group) call.reject(translateError(error));
      return;
    }
    // A connection the server ends mid-transaction also emits 'error' on the client (besides
    // failing the query in flight); unheard, that would crash the process.
    let connectionError: Error | undefined;
    const onError = (error: Error) => (connectionError ??= error);
    client.on('error', onError);
    const release = (error?: Error) => {
      client.off('error', onError);
      client.release(error ?? connectionError);
    };
    let outcomes: CallOutcome[];
    let wrote = false;
    try {
      outcomes = await appendInTransaction(
        client,
        group.map((call) => call.appends),
        { begin: true },
      );
      // The notification rides the commit: listeners get it exactly when the rows are there.
      // A NOTIFY in a transaction of its own after the commit would take a transaction id
      // of its own too (holding followers back for a moment, see readAllPage.ts) and cost a
      // round trip; measured here, it was slower. The price: PostgreSQL serializes the
      // commits of notifying transactions, which group commit (a few transactions per node,
      // each carrying every call that waited) keeps cheap.
      wrote = outcomes.some((outcome) => outcome.kind === 'written' && outcome.results.some((result) => result.written.length > 0));
      await client.query(wrote ? `SELECT pg_notify('${APPENDED_CHANNEL}', ''); COMMIT` : 'COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      release(isUniqueViolation(error) ? undefined : (error as Error));
      // Another node wrote one of our event ids between our read and our insert; the next
      // attempt reads it and answers the retry from it.
      if (isUniqueViolation(error)) requeue(group, error);
      else for (const call of group) call.reject(translateError(error));
      return;
    }
    release();
    const deferred: PendingCall[] = [];
    outcomes.forEach((outcome, index) => {
      const call = group[index]!;
      if (outcome.kind === 'written') call.resolve(outcome.results);
      else if (outcome.kind === 'failed') call.reject(outcome.error);
      else deferred.push(call);
    });
    if (deferred.length > 0) requeue(deferred, new Error('event ids kept colliding with concurrent appends'));
    if (wrote) committed();
  }

  return {
    submit(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
      return new Promise((resolve, reject) => {
        const events = appends.reduce((sum, append) => sum + append.events.length, 0);
        pending.push({ appends, events, retries: 0, resolve, reject });
        // Calls made in the same turn of the event loop join one group.
        if (pending.length === 1) setImmediate(pump);
      });
    },
    /** Resolves once nothing is queued or in flight. */
    idle(): Promise<void> {
      if (inFlight === 0 && pending.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}

export type GroupCommit = ReturnType<typeof createGroupCommit>;
