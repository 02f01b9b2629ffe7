import type { JobState, StatusReportedData } from './events.ts';

/** One entry of a job's timeline, as clients receive it (contract §4, §5). */
export interface TimelineEntry {
  readonly revision: number;
  readonly stage: string;
  readonly state: JobState;
  readonly artifact: string | null;
  readonly message: string | null;
  readonly cycle: number | null;
  readonly progress: number | null;
  readonly details: Readonly<Record<string, unknown>>;
  readonly ts: string;
}

/** The latest status of a job, as clients receive it (`status.latest`). */
export interface LatestStatus {
  readonly job_id: string;
  readonly stage: string;
  readonly state: JobState;
  readonly artifact: string | null;
  readonly message: string | null;
  readonly cycle: number | null;
  readonly progress: number | null;
  readonly details: Readonly<Record<string, unknown>>;
  readonly ts: string;
  readonly revision: number;
}

export function toTimelineEntry(data: StatusReportedData, revision: number): TimelineEntry {
  return {
    revision,
    stage: data.stage,
    state: data.state,
    artifact: data.artifact,
    message: data.message,
    cycle: data.cycle,
    progress: data.progress,
    details: data.details,
    ts: data.ts,
  };
}

export function toLatestStatus(data: StatusReportedData, revision: number): LatestStatus {
  return {
    job_id: data.job_id,
    stage: data.stage,
    state: data.state,
    artifact: data.artifact,
    message: data.message,
    cycle: data.cycle,
    progress: data.progress,
    details: data.details,
    ts: data.ts,
    revision,
  };
}
