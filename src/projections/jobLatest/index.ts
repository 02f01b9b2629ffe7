import { jobIdOfStream } from '../../domain/job/events.ts';
import { toLatestStatus } from '../../domain/job/timeline.ts';
import { asJobEvent } from '../../store/asJobEvent.ts';
import type { Projection } from '../projection.ts';

/**
 * One row per job: owner, meta, creation time and the latest status with its revision.
 * Updates are guarded by revision, so a replayed event never moves a job backwards.
 */
export const jobLatestProjection: Projection = {
  name: 'job-latest',
  canHandle: new Set(['JobRegistered', 'StatusReported']),
  bind(db) {
    const register = db.prepare(
      `INSERT INTO jobs (job_id, owner, meta, created_at, updated_at, revision, latest)
       VALUES (?, ?, ?, ?, ?, 0, NULL) ON CONFLICT (job_id) DO NOTHING`,
    );
    const report = db.prepare(
      `UPDATE jobs SET latest = ?, revision = ?, updated_at = ?, meta = coalesce(?, meta)
       WHERE job_id = ? AND revision < ?`,
    );
    const metaOf = db.prepare<[string], { meta: string }>('SELECT meta FROM jobs WHERE job_id = ?');
    return (recorded) => {
      const event = asJobEvent(recorded);
      const jobId = jobIdOfStream(recorded.stream);
      if (!event || jobId === undefined) return;
      const at = recorded.recordedAt.toISOString();
      if (event.type === 'JobRegistered') {
        register.run(jobId, event.data.user_id, JSON.stringify(event.data.meta), at, at);
        return;
      }
      let meta: string | null = null;
      if (event.data.meta) {
        const current = metaOf.get(jobId);
        meta = JSON.stringify({ ...(current ? JSON.parse(current.meta) : {}), ...event.data.meta });
      }
      const latest = JSON.stringify(toLatestStatus(event.data, recorded.revision));
      report.run(latest, recorded.revision, at, meta, jobId, recorded.revision);
    };
  },
  reset(db) {
    db.exec('DELETE FROM jobs');
  },
};
