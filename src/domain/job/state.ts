import { PersistentIndex } from '../persistentIndex.ts';
import { type JobEvent, type JobMeta, type JobState, TERMINAL_STATES } from './events.ts';

/** What the decider needs to know about a job, folded from its stream. */
export type Job =
  | { readonly status: 'unknown' }
  | {
      readonly status: 'registered';
      readonly jobId: string;
      readonly owner: string;
      readonly meta: JobMeta;
      /** Revision of the last event folded in (0 = only `JobRegistered`). */
      readonly revision: number;
      readonly state: JobState | null;
      /** `message_id` → revision of the status it produced, for idempotency. */
      readonly messageRevisions: PersistentIndex<number>;
    };

export const initialState: Job = { status: 'unknown' };

export function isTerminal(job: Job): boolean {
  return job.status === 'registered' && job.state !== null && TERMINAL_STATES.has(job.state);
}

/** Folds one event into the job. Pure: the previous state stays valid and unchanged. */
export function evolve(job: Job, event: JobEvent): Job {
  switch (event.type) {
    case 'JobRegistered':
      return {
        status: 'registered',
        jobId: event.data.job_id,
        owner: event.data.user_id,
        meta: event.data.meta,
        revision: 0,
        state: null,
        messageRevisions: PersistentIndex.empty<number>(),
      };
    case 'StatusReported': {
      if (job.status !== 'registered') return job;
      const revision = job.revision + 1;
      const messageRevisions =
        event.data.message_id === null ? job.messageRevisions : job.messageRevisions.with(event.data.message_id, revision);
      return {
        ...job,
        revision,
        state: event.data.state,
        meta: event.data.meta ? { ...job.meta, ...event.data.meta } : job.meta,
        messageRevisions,
      };
    }
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

export function fold(events: Iterable<JobEvent>, from: Job = initialState): Job {
  let job = from;
  for (const event of events) job = evolve(job, event);
  return job;
}
