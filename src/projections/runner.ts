import type { Logger } from 'pino';
import { JOB_STREAM_PREFIX } from '../domain/job/events.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { AllSubscription, EventStore, RecordedEvent } from '../store/eventStore.ts';
import { type GlobalPosition, comparePositions, decodePosition, encodePosition } from '../store/position.ts';
import type { Projection } from './projection.ts';
import type { ReadModelDatabase } from './readModelDatabase.ts';

export interface ProjectionRunner {
  /** Starts following the store from the stored checkpoint; resolves once caught up. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Position of the last event applied (or examined), `null` before the first. */
  readonly checkpoint: GlobalPosition | null;
  /** Resolves `true` once the read models include `position`, `false` after `timeoutMs`. */
  waitFor(position: GlobalPosition, timeoutMs?: number): Promise<boolean>;
  /** Job events in the store not yet applied, counted up to `cap` (so it stays cheap). */
  lag(cap: number): Promise<number>;
}

export interface ProjectionRunnerOptions {
  readonly store: EventStore;
  readonly db: ReadModelDatabase;
  readonly projections: readonly Projection[];
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Events applied per transaction at most. Defaults to 1,000. */
  readonly batchSize?: number;
  /** Checkpoint row name. Defaults to `read-models`. */
  readonly checkpointName?: string;
}

const FILTER = { streamNamePrefixes: [JOB_STREAM_PREFIX] };
const RETRY_DELAY_MS = 1000;
/** Cap for the lag gauge; /readyz asks with its own threshold. */
const LAG_GAUGE_CAP = 100_000;

class CheckpointMoved extends Error {}

/**
 * Runs the projections: catch-up from the checkpoint, then live. Events that arrive
 * together are applied in one transaction together with the checkpoint, so the read models
 * and the checkpoint can never disagree. If someone else moved the checkpoint (a rebuild
 * from the CLI), the runner notices inside that transaction and restarts from it.
 */
export function createProjectionRunner(options: ProjectionRunnerOptions): ProjectionRunner {
  const { store, db, projections, logger, metrics } = options;
  const name = options.checkpointName ?? 'read-models';
  const batchSize = options.batchSize ?? 1000;
  const appliers = projections.map((projection) => ({ projection, apply: projection.bind(db) }));
  const selectCheckpoint = db.prepare<[string], { position: string }>('SELECT position FROM checkpoints WHERE name = ?');
  const upsertCheckpoint = db.prepare(
    'INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position',
  );

  function storedCheckpoint(): GlobalPosition | null {
    const row = selectCheckpoint.get(name);
    return row ? (decodePosition(row.position) ?? null) : null;
  }

  let checkpoint = storedCheckpoint();
  let batch: RecordedEvent[] = [];
  let batchEnd: GlobalPosition | null = null;
  let flushTimer: NodeJS.Immediate | undefined;
  let failure: unknown;
  let subscription: AllSubscription | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;
  let lagTimer: NodeJS.Timeout | undefined;
  const waiters = new Set<{ position: GlobalPosition; resolve(ok: boolean): void }>();
  let caughtUp!: () => void;
  const firstCatchUp = new Promise<void>((resolve) => (caughtUp = resolve));

  const commit = db.transaction((events: readonly RecordedEvent[], to: GlobalPosition) => {
    const stored = storedCheckpoint();
    if (!samePosition(stored, checkpoint)) throw new CheckpointMoved();
    for (const event of events) {
      for (const { projection, apply } of appliers) if (projection.canHandle.has(event.type)) apply(event);
    }
    upsertCheckpoint.run(name, encodePosition(to));
  });

  function flush(): void {
    if (flushTimer) clearImmediate(flushTimer);
    flushTimer = undefined;
    if (batchEnd === null || failure !== undefined) return;
    const events = batch;
    const to = batchEnd;
    batch = [];
    batchEnd = null;
    try {
      commit(events, to);
    } catch (error) {
      failure = error;
      void subscription?.close();
      return;
    }
    checkpoint = to;
    metrics?.projectionCheckpoint.set(Number(to.commit));
    for (const waiter of waiters) {
      if (comparePositions(waiter.position, to) <= 0) {
        waiters.delete(waiter);
        waiter.resolve(true);
      }
    }
  }

  function scheduleFlush(): void {
    flushTimer ??= setImmediate(flush);
  }

  async function followOnce(): Promise<void> {
    failure = undefined;
    subscription = store.subscribeToAll({ from: checkpoint ?? 'start', filter: FILTER });
    for await (const item of subscription) {
      if (item.kind === 'event') {
        batch.push(item.event);
        batchEnd = item.event.position;
        if (batch.length >= batchSize) flush();
        else scheduleFlush();
      } else if (item.kind === 'checkpoint') {
        batchEnd = item.position;
        scheduleFlush();
      } else {
        flush();
        caughtUp();
      }
    }
    flush();
    if (failure !== undefined) throw failure;
  }

  async function run(): Promise<void> {
    while (!stopped) {
      try {
        await followOnce();
      } catch (error) {
        batch = [];
        batchEnd = null;
        if (error instanceof CheckpointMoved) {
          checkpoint = storedCheckpoint();
          logger.info({ checkpoint: checkpoint && encodePosition(checkpoint) }, 'read-model checkpoint moved; restarting');
          continue;
        }
        if (stopped) return;
        logger.error({ err: error }, 'projection failed; retrying from the checkpoint');
        checkpoint = storedCheckpoint();
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS).unref());
      }
    }
  }

  async function lag(cap: number): Promise<number> {
    let count = 0;
    for await (const _ of store.readAll({ after: checkpoint ?? 'start', filter: FILTER, maxCount: cap })) count++;
    return count;
  }

  return {
    get checkpoint() {
      return checkpoint;
    },
    start() {
      running ??= run();
      lagTimer ??= setInterval(() => {
        lag(LAG_GAUGE_CAP).then(
          (value) => metrics?.projectionLag.set(value),
          () => undefined,
        );
      }, 2000).unref();
      return firstCatchUp;
    },
    async stop() {
      stopped = true;
      clearInterval(lagTimer);
      await subscription?.close();
      await running;
      for (const waiter of waiters) waiter.resolve(false);
      waiters.clear();
    },
    waitFor(position, timeoutMs = 10_000) {
      if (checkpoint && comparePositions(position, checkpoint) <= 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const waiter = {
          position,
          resolve: (ok: boolean) => {
            clearTimeout(timer);
            resolve(ok);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          resolve(false);
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    lag,
  };
}

/** Empties the read models and their checkpoint, for `npm run rebuild-projections`. */
export function resetReadModels(db: ReadModelDatabase, projections: readonly Projection[], checkpointName = 'read-models'): void {
  db.transaction(() => {
    for (const projection of projections) projection.reset(db);
    db.prepare('DELETE FROM checkpoints WHERE name = ?').run(checkpointName);
  })();
}

function samePosition(a: GlobalPosition | null, b: GlobalPosition | null): boolean {
  if (a === null || b === null) return a === b;
  return comparePositions(a, b) === 0;
}
