import { jobIdOfStream } from '../../domain/job/events.ts';
import { toTimelineEntry } from '../../domain/job/timeline.ts';
import { asJobEvent } from '../../store/asJobEvent.ts';
import type { Projection } from '../projection.ts';

/** Every `StatusReported` as a timeline entry keyed by (job, revision). */
export const jobTimelineProjection: Projection = {
  name: 'job-timeline',
  canHandle: new Set(['StatusReported']),
  bind(db) {
    const insert = db.prepare('INSERT OR IGNORE INTO timeline (job_id, revision, entry) VALUES (?, ?, ?)');
    return (recorded) => {
      const event = asJobEvent(recorded);
      const jobId = jobIdOfStream(recorded.stream);
      if (event?.type !== 'StatusReported' || jobId === undefined) return;
      insert.run(jobId, recorded.revision, JSON.stringify(toTimelineEntry(event.data, recorded.revision)));
    };
  },
  reset(db) {
    db.exec('DELETE FROM timeline');
  },
};
