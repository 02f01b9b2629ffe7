import { invocationFrame, type OutgoingFrame } from '@statuscast/signalr-server';
import { CatchUpFrames } from '../liveFeed/catchUpFrames.ts';
import type { JobCatchUp, LiveEvent } from '../liveFeed/types.ts';

const LIVE_TARGETS = ['timeline.event', 'status.latest'] as const;
const BULK_TARGET = 'timeline.bulk';

/**
 * Frames memoized per event. A fan-out asks for the same event once per recipient in a row,
 * so the event asked for last is checked before the `WeakMap`.
 */
class FrameMemo {
  private readonly frames = new WeakMap<LiveEvent, OutgoingFrame>();
  private lastEvent: LiveEvent | null = null;
  private lastFrame: OutgoingFrame | null = null;

  constructor(private readonly text: (event: LiveEvent) => string) {}

  frameOf(event: LiveEvent): OutgoingFrame {
    if (event === this.lastEvent) return this.lastFrame!;
    let frame = this.frames.get(event);
    if (frame === undefined) {
      const built = this.text(event);
      frame = { text: built, messageCount: 2, targets: LIVE_TARGETS, encoded: Buffer.from(built, 'utf8') };
      this.frames.set(event, frame);
    }
    this.lastEvent = event;
    this.lastFrame = frame;
    return frame;
  }
}

const jobFrames = new FrameMemo((event) =>
  invocationFrame('timeline.event', event.timelineEventJson) + invocationFrame('status.latest', event.statusLatestJson),
);
const feedFrames = new FrameMemo((event) => {
  const withPosition = `${event.timelineEventJson.slice(0, -1)},"position":${JSON.stringify(event.positionText)}}`;
  return invocationFrame('timeline.event', withPosition) + invocationFrame('status.latest', event.statusLatestJson);
});

/**
 * A live event for job subscribers: `timeline.event` then `status.latest`, in one chunk.
 * Built and encoded once per event (memoized on the event) and shared by every connection.
 */
export function jobLiveFrame(event: LiveEvent): OutgoingFrame {
  return jobFrames.frameOf(event);
}

/**
 * A live event for feed subscribers: as for a job, but the `timeline.event` argument also
 * carries the event's store `position`, the feed's resume point (like the SSE feed's `id:`).
 */
export function feedLiveFrame(event: LiveEvent): OutgoingFrame {
  return feedFrames.frameOf(event);
}

function bulkMessage(jobId: string, events: readonly LiveEvent[], fromRevision: number, toRevision: number): string {
  const argument = JSON.stringify({
    job_id: jobId,
    events: events.map((event) => event.entry),
    meta: { from_revision: fromRevision, to_revision: toRevision },
  });
  return invocationFrame(BULK_TARGET, argument);
}

const bulkFrames = new CatchUpFrames<OutgoingFrame>((catchUp) => {
  const text = bulkMessage(catchUp.jobId, catchUp.events, catchUp.fromRevision, catchUp.toRevision);
  return { text, messageCount: 1, targets: [BULK_TARGET], encoded: Buffer.from(text, 'utf8') };
});

/**
 * The one `timeline.bulk` a Subscribe sends: every entry after the resume revision. Shared
 * by the connections whose catch-ups shared a read (a reconnect storm).
 */
export function jobBulkFrame(catchUp: JobCatchUp): OutgoingFrame {
  return bulkFrames.frameOf(catchUp);
}

/**
 * A feed catch-up: one `timeline.bulk` per job (its entries in revision order), all in one
 * chunk so that a large catch-up counts as one frame against the send-buffer bound.
 * `null` when there is nothing to catch up on.
 */
export function feedBulkFrame(events: readonly LiveEvent[]): OutgoingFrame | null {
  if (events.length === 0) return null;
  const byJob = new Map<string, LiveEvent[]>();
  for (const event of events) {
    const list = byJob.get(event.jobId);
    if (list === undefined) byJob.set(event.jobId, [event]);
    else list.push(event);
  }
  let text = '';
  for (const [jobId, list] of byJob) text += bulkMessage(jobId, list, list[0]!.revision, list[list.length - 1]!.revision);
  return { text, messageCount: byJob.size, targets: Array.from(byJob.keys(), () => BULK_TARGET) };
}
