import type { ReportStatus } from '../domain/job/commands.ts';
import { decide } from '../domain/job/decide.ts';
import { jobStreamName } from '../domain/job/events.ts';
import { evolve, initialState, type Job } from '../domain/job/state.ts';
import { asJobEvent } from './asJobEvent.ts';
import { eventIdFor } from './eventIds.ts';
import {
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type StreamAppend,
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
   * is durable as a whole before anything is reported. Retries on a concurrency conflict.
   */
  handle(envelopes: readonly CommandEnvelope[]): Promise<CommandOutcome[]>;
}

export interface JobCommandHandlerOptions {
  readonly store: EventStore;
  readonly directory: JobDirectory;
  /** Attempts on an expected-revision conflict before giving up. Defaults to 5. */
  readonly maxAttempts?: number;
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
  const maxAttempts = options.maxAttempts ?? 5;
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

  async function attempt(envelopes: readonly CommandEnvelope[]): Promise<CommandOutcome[]> {
    const outcomes: (CommandOutcome | undefined)[] = new Array(envelopes.length);
    const before = new Map<string, Job>();
    const after = new Map<string, Job>();
    const pendingEvents = new Map<string, NewEvent[]>();
    const appendedIndexes: { index: number; jobId: string; eventIndex: number }[] = [];

    for (const [index, { command, metadata }] of envelopes.entries()) {
      const jobId = command.data.job_id;
      if (!after.has(jobId)) {
        const job = await load(jobId);
        before.set(jobId, job);
        after.set(jobId, job);
      }
      let job = after.get(jobId)!;
      const decision = decide(command, job);
      if (decision.outcome !== 'appended') {
        outcomes[index] = decision;
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

    if (pendingEvents.size > 0) {
      const appends: StreamAppend[] = [...pendingEvents].map(([jobId, events]) => ({
        stream: jobStreamName(jobId),
        events,
        expectedRevision: expectedRevisionOf(before.get(jobId)!),
      }));
      let results;
      try {
        results = await store.appendToStreams(appends);
      } catch (error) {
        // Whatever was decided may be stale now; read those jobs afresh next time.
        for (const jobId of pendingEvents.keys()) cache.delete(jobId);
        throw error;
      }
      const byJob = new Map([...pendingEvents.keys()].map((jobId, i) => [jobId, results[i]!]));
      for (const { index, jobId, eventIndex } of appendedIndexes) {
        const written = byJob.get(jobId)!.written[eventIndex]!;
        outcomes[index] = { outcome: 'appended', revision: written.revision, position: written.position };
      }
    }
    for (const [jobId, job] of after) {
      remember(jobId, job);
      if (job.status === 'registered') directory.remember(jobId, job.owner);
    }
    return outcomes as CommandOutcome[];
  }

  return {
    async handle(envelopes) {
      const jobIds = envelopes.map((e) => e.command.data.job_id);
      return mutex.withKeys(jobIds, async () => {
        for (let attemptNo = 1; ; attemptNo++) {
          try {
            return await attempt(envelopes);
          } catch (error) {
            if (!(error instanceof WrongExpectedRevisionError) || attemptNo >= maxAttempts) throw error;
          }
        }
      });
    },
  };
}

function expectedRevisionOf(job: Job): ExpectedRevision {
  return job.status === 'unknown' ? 'no_stream' : job.revision;
}
