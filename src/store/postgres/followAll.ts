import type pg from 'pg';
import type { Logger } from 'pino';
import type { AppendSignal } from '../appendSignal.ts';
import {
  type AllSubscription,
  type AllSubscriptionItem,
  type StreamFilter,
  type SubscribeToAllOptions,
  StoreUnavailableError,
} from '../eventStore.ts';
import type { GlobalPosition } from '../position.ts';
import { committedHead, endOfLog, heldBackUpTo, readAllPage, rowsHeldBack } from './readAllPage.ts';
import { ORIGIN, rowPosition, toRecordedEvent } from './rows.ts';
import { isTransient, translateError } from './translateError.ts';

export interface FollowTimings {
  /** Rows per read. */
  readonly pageSize: number;
  /** Safety poll while the LISTEN connection is up (a lost notification). */
  readonly pollIntervalMs: number;
  /** Poll while the LISTEN connection is down. */
  readonly fallbackPollIntervalMs: number;
  /** Poll while committed rows wait behind an older open transaction. */
  readonly heldBackPollIntervalMs: number;
  /** First retry delay after a failed read; doubles up to `maxRetryDelayMs`. */
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
  /** Failed reads in a row after which the subscription ends with `StoreUnavailableError`. */
  readonly maxRetries: number;
}

export interface FollowContext {
  readonly pool: pg.Pool;
  readonly signal: AppendSignal;
  readonly listening: () => boolean;
  readonly timings: FollowTimings;
  readonly logger?: Logger;
  readonly onClose: (subscription: AllSubscription) => void;
}

/**
 * Follows `$all` by polling in log order, woken by `LISTEN/NOTIFY`: catch-up, `caughtUp`, then
 * live. It holds no connection between reads, so a dropped connection or a restarted server
 * costs a failed read: it retries from the last position it delivered, never from the head.
 * Pull-based: the next page is read when the consumer asks for more.
 */
export function followAll(options: SubscribeToAllOptions, context: FollowContext): AllSubscription {
  const { pool, signal, timings, logger } = context;
  let stopped = false;

  async function* follow(): AsyncGenerator<AllSubscriptionItem> {
    try {
      yield* followFromStart();
    } finally {
      stopped = true;
      context.onClose(subscription);
    }
  }

  async function* followFromStart(): AsyncGenerator<AllSubscriptionItem> {
    const begun = await retrying(() => startPosition(options.from));
    if (begun === undefined) return;
    const { start, skip } = begun;
    // `caughtUp` promises everything appended before the subscription started. A commit can
    // be held back behind an older open transaction; until it shows, the catch-up is not done.
    // (From the end nothing older is owed.)
    const owed = options.from === 'end' ? null : await retrying(() => committedHead(pool));
    if (owed === undefined) return;
    let settled = owed === null;
    let after: GlobalPosition = start;
    let caughtUp = false;
    while (!stopped) {
      const seen = signal.version;
      const rows = await retrying(() => readAllPage(pool, after, timings.pageSize));
      if (rows === undefined) return;
      let lastDelivered: GlobalPosition = after;
      for (const row of rows) {
        if (stopped) return;
        after = rowPosition(row);
        if (skip.delete(`${row.tx}-${row.position}`)) continue;
        if (!matches(options.filter, row.stream)) continue;
        lastDelivered = after;
        yield { kind: 'event', event: toRecordedEvent(row) };
      }
      // Filtered-out rows still move the follower forward, so say how far it got.
      if (after !== lastDelivered) yield { kind: 'checkpoint', position: after };
      if (rows.length === timings.pageSize) continue;
      if (!settled) {
        const held = await retrying(() => heldBackUpTo(pool, owed!));
        if (held === undefined) return;
        if (held) await signal.wait(timings.heldBackPollIntervalMs, seen);
        // Not held back any more: read once more, what just became visible comes before `caughtUp`.
        else settled = true;
        continue;
      }
      if (!caughtUp) {
        caughtUp = true;
        yield { kind: 'caughtUp', position: after === ORIGIN ? null : after };
      }
      // Woken for nothing new: maybe an older open transaction holds the new rows back (one
      // that is not an append sends no notification when it ends), so look, and poll fast if so.
      const heldBack = rows.length === 0 && (await rowsHeldBack(pool).catch(() => false));
      if (stopped) return;
      await signal.wait(
        heldBack ? timings.heldBackPollIntervalMs : context.listening() ? timings.pollIntervalMs : timings.fallbackPollIntervalMs,
        seen,
      );
    }
  }

  /** Where to start, and (from the end) the rows appended before that show up later, to skip. */
  async function startPosition(from: SubscribeToAllOptions['from']): Promise<{ start: GlobalPosition; skip: Set<string> }> {
    if (from === 'start') return { start: ORIGIN, skip: new Set() };
    if (from !== 'end') return { start: from, skip: new Set() };
    // Beyond the bound, the excess is delivered after all: a repeat of an old event, never a gap.
    const { head, heldBack } = await endOfLog(pool, 10_000);
    return { start: head ? rowPosition(head) : ORIGIN, skip: new Set(heldBack.map((row) => `${row.tx}-${row.position}`)) };
  }

  /**
   * Runs a read, retrying transient failures with backoff; `undefined` once stopped. Gives up
   * with `StoreUnavailableError` after `maxRetries` failures in a row.
   */
  async function retrying<T>(read: () => Promise<T>): Promise<T | undefined> {
    for (let failures = 0; ; ) {
      if (stopped) return undefined;
      try {
        const value = await read();
        if (failures > 0) logger?.info({ failures }, 'PostgreSQL answers again; the subscription resumed from its position');
        return value;
      } catch (error) {
        if (stopped) return undefined;
        if (!isTransient(error)) throw error;
        failures++;
        if (failures > timings.maxRetries) {
          throw new StoreUnavailableError('PostgreSQL stayed unavailable; the subscription ended', { cause: translateError(error) });
        }
        if (failures === 1) logger?.warn({ err: error }, 'PostgreSQL read failed; the subscription retries from its position');
        // Woken early by `close()`, or by an append (the database answers again).
        await signal.wait(Math.min(timings.maxRetryDelayMs, timings.retryDelayMs * 2 ** (failures - 1)));
      }
    }
  }

  const iterator = follow();
  const subscription: AllSubscription = {
    [Symbol.asyncIterator]: () => iterator,
    async close() {
      if (stopped) return;
      stopped = true;
      context.onClose(subscription);
      signal.notify();
    },
  };
  return subscription;
}

function matches(filter: StreamFilter | undefined, stream: string): boolean {
  return !filter || filter.streamNamePrefixes.some((prefix) => stream.startsWith(prefix));
}


