import type { ReportStatus } from './commands.ts';
import type { JobEvent, JobMeta, StatusReportedData } from './events.ts';
import { type Job, isTerminal } from './state.ts';

/**
 * What became of one status message (contract §3). Only `appended` carries events; the
 * others explain why nothing was written.
 */
export type Decision =
  | { readonly outcome: 'appended'; readonly events: readonly JobEvent[] }
  | { readonly outcome: 'duplicate'; readonly revision: number }
  | { readonly outcome: 'dropped'; readonly reason: string }
  | { readonly outcome: 'rejected'; readonly reason: string };

export function decide(command: ReportStatus, job: Job): Decision {
  const message = command.data;
  if (job.status === 'unknown') {
    if (message.user_id === null) return { outcome: 'dropped', reason: 'user_id missing for unknown job' };
    const meta: JobMeta = {
      stage_order: message.meta?.stage_order ?? null,
      expected_cycles: message.meta?.expected_cycles ?? null,
    };
    return {
      outcome: 'appended',
      events: [
        {
          type: 'JobRegistered',
          data: { job_id: message.job_id, user_id: message.user_id, meta, registered_at: message.ts },
        },
        { type: 'StatusReported', data: statusOf(command, message.user_id, false) },
      ],
    };
  }
  if (message.user_id !== null && message.user_id !== job.owner) {
    return { outcome: 'rejected', reason: "user_id does not match the job's owner" };
  }
  if (message.message_id !== null) {
    const revision = job.messageRevisions.get(message.message_id);
    if (revision !== undefined) return { outcome: 'duplicate', revision };
  }
  if (isTerminal(job)) {
    return { outcome: 'rejected', reason: `job already ${job.state}; no further status is accepted` };
  }
  return { outcome: 'appended', events: [{ type: 'StatusReported', data: statusOf(command, job.owner, true) }] };
}

function statusOf(command: ReportStatus, owner: string, carryMeta: boolean): StatusReportedData {
  const m = command.data;
  const data: StatusReportedData = {
    job_id: m.job_id,
    user_id: owner,
    message_id: m.message_id,
    stage: m.stage,
    state: m.state,
    message: m.message,
    artifact: m.artifact,
    cycle: m.cycle,
    progress: m.progress,
    details: m.details,
    ts: m.ts,
  };
  // The first message's meta lives on JobRegistered; later ones record a change of meta.
  return carryMeta && m.meta && Object.keys(m.meta).length > 0 ? { ...data, meta: m.meta } : data;
}
