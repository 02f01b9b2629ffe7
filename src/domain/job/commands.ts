import type { JobMeta, JobState } from './events.ts';

/** A worker reports the status of a job. Validated input; time arrives in `ts`. */
export interface ReportStatus {
  readonly type: 'ReportStatus';
  readonly data: {
    readonly job_id: string;
    /** The owner; required only for a job that does not exist yet. */
    readonly user_id: string | null;
    readonly message_id: string | null;
    readonly stage: string;
    readonly state: JobState;
    readonly message: string | null;
    readonly artifact: string | null;
    readonly cycle: number | null;
    readonly progress: number | null;
    readonly details: Readonly<Record<string, unknown>>;
    readonly ts: string;
    readonly meta: Partial<JobMeta> | null;
  };
}
