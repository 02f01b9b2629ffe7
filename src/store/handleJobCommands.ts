import type { ReportStatus } from '../domain/job/commands.ts';
import { decide } from '../domain/job/decide.ts';
import { jobStreamName } from '../domain/job/events.ts';
import { evolve, initialState, type Job } from '../domain/job/state.ts';
import { asJobEvent } from './asJobEvent.ts';
import { eventIdFor } from './eventIds.ts';
import {
  AppendTooLargeError,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  PartialAppendError,
  type StreamAppend,
  StreamDeletedError,
  WrongExpectedRevisionError,
} from './eventStore.ts';
import type { JobDirectory } from './jobDirectory.ts';
import { KeyedMutex } from './keyedMutex.ts';
import type { GlobalPosition } from './position.ts';

export interface CommandEnvelope {
  readonly command: ReportStatus;
  /** Stored on every event the command produces (message id, trace context, source). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

export type CommandOutcome =
  | { readonly outcome: 'appended'; readonly revision: number; readonly position: GlobalPosition }
  | { readonly outcome: 'duplicate'; readonly revision: number }
  | { readonly outcome: 'dropped'; readonly reason: string }
  | { readonly outcome: 'rejected'; readonly reason: string };

export interface JobCommandHandler {
  /**
   * Decides every command (in order, each seeing the effect of the earlier ones of the
   * same job) and appends all resulting events in one `appendToStreams` call, so a batch
   * is durable as a whole before anything is reported. Retries on a concurrency conflict;
   * jobs whose streams a partly failed call did write are not decided again.
   */
  handle(envelopes: readonly CommandEnvelope[]): Promise<CommandOutcome[]>;
}

export interface JobCommandHandlerOptions {
  readonly store: EventStore;
  readonly directory: JobDirectory;
  /** Attempts on an expected-revision conflict before giving up. Defaults to 10. */
  readonly maxAttempts?: number;
  /**
   * Longest pause before the first retry of a conflict, doubling each time (up to 32×), with
   * full jitter: another node wrote the job meanwhile, and retrying at once would meet it
   * again. Defaults to 4 ms.
   */
  readonly conflictBackoffMs?: number;
  /** Folded job states kept in memory (least recently used evicted). Defaults to 10,000. */
  readonly cacheCapacity?: number;
}

interface Folded {
  readonly job: Job;
}

/**
 * The one command handler (style principle 3): read the stream, fold, decide, append with
 * the expected revision, retry on conflict. Folded states are cached; the cache is only an
 * optimisation, because a stale entry makes the append conflict and the job is re-read.
 */
export function createJobCommandHandler(options: JobCommandHandlerOptions): JobCommandHandler {
  const { store, directory } = options;
  const maxAttempts = options.maxAttempts ?? 10;
  const backoffMs = options.conflictBackoffMs ?? 4;
  const capacity = options.cacheCapacity ?? 10_000;
  const cache = new Map<string, Folded>();
  const mutex = new KeyedMutex();

  function cacheSet(jobId: string, folded: Folded): void {
    cache.delete(jobId);
    cache.set(jobId, folded);
    if (cache.size > capacity) cache.delete(cache.keys().next().value!);
  }

  /**
   * Caches a folded job, but not a job that does not exist yet: another node may register
   * it at any moment, and a stale "unknown" would drop its next message without `user_id`
   * rather than conflict (only appends meet the expected revision).
   */
  function remember(jobId: string, job: Job): void {
    if (job.status === 'unknown') cache.delete(jobId);
    else cacheSet(jobId, { job });
  }

  async function load(jobId: string): Promise<Job> {
    const cached = cache.get(jobId);
    if (cached) return cached.job;
    let job = initialState;
    for await (const recorded of store.readStream(jobStreamName(jobId))) {
      const event = asJobEvent(recorded);
      if (event) job = evolve(job, event);
    }
    remember(jobId, job);
    return job;
  }

  /**
   * One pass over the commands at `indexes` (of `envelopes`). Fills `outcomes` for every one
   * it settles; on a `PartialAppendError` it settles the jobs that were written before
   * rethrowing, so a retry decides only the rest.
   */
  async function attempt(
    envelopes: readonly CommandEnvelope[],
    indexes: readonly number[],
    outcomes: (CommandOutcome | undefined)[],
  ): Promise<void> {
    const before = new Map<string, Job>();
    const after = new Map<string, Job>();
    const pendingEvents = new Map<string, NewEvent[]>();
    const decided: { index: number; outcome: CommandOutcome }[] = [];
    const appendedIndexes: { index: number; jobId: string; eventIndex: number }[] = [];
    const refused = new Map<string, string>();

    for (const index of indexes) {
      const { command, metadata } = envelopes[index]!;
      const jobId = command.data.job_id;
      if (refused.has(jobId)) {
        outcomes[index] = { outcome: 'rejected', reason: refused.get(jobId)! };
        continue;
      }
      if (!after.has(jobId)) {
        let job: Job;
        try {
          job = await load(jobId);
        } catch (error) {
          const reason = refusalOf(error);
          if (reason === undefined) throw error;
          refused.set(jobId, reason);
          outcomes[index] = { outcome: 'rejected', reason };
          continue;
        }
        before.set(jobId, job);
        after.set(jobId, job);
      }
      let job = after.get(jobId)!;
      const decision = decide(command, job);
      if (decision.outcome !== 'appended') {
        decided.push({ index, outcome: decision });
        continue;
      }
      const events = pendingEvents.get(jobId) ?? [];
      for (const event of decision.events) {
        job = evolve(job, event);
        events.push({
          id: eventIdFor(jobId, command.data.message_id, event.type),
          type: event.type,
          data: event.data as unknown as Record<string, unknown>,
          metadata,
        });
      }
      pendingEvents.set(jobId, events);
      after.set(jobId, job);
      appendedIndexes.push({ index, jobId, eventIndex: events.length - 1 });
    }

    const jobs = [...pendingEvents.keys()];
    /** Settles every command of the first `count` appended jobs, and the undecided ones with them. */
    const settle = (results: readonly AppendResult[]) => {
      const written = new Map(results.map((result, i) => [jobs[i]!, result]));
      for (const { index, jobId, eventIndex } of appendedIndexes) {
        const result = written.get(jobId);
        if (!result) continue;
        const at = result.written[eventIndex]!;
        outcomes[index] = { outcome: 'appended', revision: at.revision, position: at.position };
      }
      for (const [jobId, job] of after) {
        if (pendingEvents.has(jobId) && !written.has(jobId)) continue;
        for (const { index, outcome } of decided) if (envelopes[index]!.command.data.job_id === jobId) outcomes[index] = outcome;
        remember(jobId, job);
        if (job.status === 'registered') directory.remember(jobId, job.owner);
      }
    };

    if (jobs.length === 0) return settle([]);
    const appends: StreamAppend[] = jobs.map((jobId) => ({
      stream: jobStreamName(jobId),
      events: pendingEvents.get(jobId)!,
      expectedRevision: expectedRevisionOf(before.get(jobId)!),
    }));
    try {
      settle(await store.appendToStreams(appends));
    } catch (error) {
      const written = error instanceof PartialAppendError ? error.written : [];
      const cause = error instanceof PartialAppendError ? error.cause : error;
      // Whatever was decided for the jobs not written may be stale now; read them afresh.
      for (const jobId of jobs.slice(written.length)) cache.delete(jobId);
      settle(written);
      // A job the store refuses for good is rejected; the next pass appends the others.
      const reason = refusalOf(cause);
      const failedJob = jobs[written.length];
      if (reason === undefined || failedJob === undefined) throw cause;
      for (const { index, jobId } of appendedIndexes) if (jobId === failedJob) outcomes[index] = { outcome: 'rejected', reason };
      for (const { index } of decided) if (envelopes[index]!.command.data.job_id === failedJob) outcomes[index] = { outcome: 'rejected', reason };
    }
  }

  return {
    async handle(envelopes) {
      const jobIds = envelopes.map((e) => e.command.data.job_id);
      return mutex.withKeys(jobIds, async () => {
        const outcomes: (CommandOutcome | undefined)[] = new Array(envelopes.length);
        for (let attemptNo = 1; ; attemptNo++) {
          const open = envelopes.flatMap((_, index) => (outcomes[index] === undefined ? [index] : []));
          if (open.length === 0) return outcomes as CommandOutcome[];
          try {
            await attempt(envelopes, open, outcomes);
          } catch (error) {
            if (!(error instanceof WrongExpectedRevisionError) || attemptNo >= maxAttempts) throw error;
            // Within a node the mutex already orders appends: a conflict means another node
            // won the race, and contenders that retry after random pauses stop colliding.
            const ceiling = backoffMs * 2 ** Math.min(attemptNo - 1, 5);
            await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
          }
        }
      });
    },
  };
}

/** Why the store will never take this job's events, or `undefined` for a failure worth retrying. */
function refusalOf(error: unknown): string | undefined {
  if (error instanceof StreamDeletedError) return "the job's stream was deleted from the event store; nothing more can be appended to it";
  if (error instanceof AppendTooLargeError) {
    const limit = error.maxAppendSize === null ? '' : ` (${error.maxAppendSize} bytes)`;
    return `the job's events in this request exceed the event store's maximum append size${limit}; send fewer or smaller messages per request`;
  }
  return undefined;
}

function expectedRevisionOf(job: Job): ExpectedRevision {
  return job.status === 'unknown' ? 'no_stream' : job.revision;
}
