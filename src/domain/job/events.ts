/** The five states a job can report; the last three end the job. */
export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'cancelled']);

/** Presentation hints a worker may attach to its job. */
export interface JobMeta {
  readonly stage_order: readonly string[] | null;
  readonly expected_cycles: number | null;
}

export interface JobRegisteredData {
  readonly job_id: string;
  readonly user_id: string;
  readonly meta: JobMeta;
  /** The `ts` of the message that created the job. */
  readonly registered_at: string;
}

export interface StatusReportedData {
  readonly job_id: string;
  /** The job's owner, copied onto every status so routing never needs a lookup. */
  readonly user_id: string;
  readonly message_id: string | null;
  readonly stage: string;
  readonly state: JobState;
  readonly message: string | null;
  readonly artifact: string | null;
  readonly cycle: number | null;
  readonly progress: number | null;
  readonly details: Readonly<Record<string, unknown>>;
  readonly ts: string;
  /** Present when this message changed the job's meta. */
  readonly meta?: Partial<JobMeta>;
}

export type JobRegistered = { readonly type: 'JobRegistered'; readonly data: JobRegisteredData };
export type StatusReported = { readonly type: 'StatusReported'; readonly data: StatusReportedData };
export type JobEvent = JobRegistered | StatusReported;

export const JOB_EVENT_TYPES: ReadonlySet<string> = new Set<JobEvent['type']>(['JobRegistered', 'StatusReported']);

export const JOB_STREAM_PREFIX = 'job-';

export function jobStreamName(jobId: string): string {
  return `${JOB_STREAM_PREFIX}${jobId}`;
}

export function jobIdOfStream(stream: string): string | undefined {
  return stream.startsWith(JOB_STREAM_PREFIX) ? stream.slice(JOB_STREAM_PREFIX.length) : undefined;
}
