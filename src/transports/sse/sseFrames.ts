import { EventBuffer } from 'better-sse';
import type { GlobalPosition } from '../../store/position.ts';
import { encodePosition } from '../../store/position.ts';
import { CatchUpFrames } from '../liveFeed/catchUpFrames.ts';
import type { JobCatchUp, LiveEvent } from '../liveFeed/types.ts';

/** Our data is JSON text already; better-sse must not serialize it again. */
const asIs = (data: unknown) => data as string;
const newBuffer = () => new EventBuffer({ serializer: asIs });

const jobFrames = new WeakMap<LiveEvent, Buffer>();
const feedFrames = new WeakMap<LiveEvent, Buffer>();

/**
 * A live event on a job stream: `timeline.event` with the revision as id, then
 * `status.latest` without an id, so `Last-Event-ID` only ever names a revision whose entry
 * was sent (contract §6). Built and UTF-8 encoded once per event and shared by every
 * connection: with thousands of subscribers, encoding per connection is measurable.
 */
export function jobEventFrame(event: LiveEvent): Buffer {
  return memoized(jobFrames, event, () => String(event.revision));
}

/** The same pair on the multi-job feed, where the id is the store position. */
export function feedEventFrame(event: LiveEvent): Buffer {
  return memoized(feedFrames, event, () => event.positionText);
}

function memoized(cache: WeakMap<LiveEvent, Buffer>, event: LiveEvent, id: () => string): Buffer {
  let frame = cache.get(event);
  if (!frame) {
    const text = newBuffer()
      .id(id())
      .event('timeline.event')
      .data(event.timelineEventJson)
      .dispatch()
      .event('status.latest')
      .data(event.statusLatestJson)
      .dispatch()
      .read();
    frame = Buffer.from(text, 'utf8');
    cache.set(event, frame);
  }
  return frame;
}

const bulkFrames = new CatchUpFrames<Buffer>((catchUp) => {
  const data = JSON.stringify({
    job_id: catchUp.jobId,
    events: catchUp.events.map((e) => e.entry),
    meta: { from_revision: catchUp.fromRevision, to_revision: catchUp.toRevision },
  });
  return Buffer.from(newBuffer().id(String(catchUp.toRevision)).event('timeline.bulk').data(data).dispatch().read(), 'utf8');
});

/**
 * The one `timeline.bulk` a job stream starts with; its id is the last revision it holds.
 * Shared by the streams whose catch-ups shared a read (a reconnect storm).
 */
export function jobBulkFrame(catchUp: JobCatchUp): Buffer {
  return bulkFrames.frameOf(catchUp);
}

/**
 * An id-only frame: fires no event, but per the HTML spec moves the browser's
 * `lastEventId` to the position the feed has reached, so a reconnect resumes there.
 */
export function positionFrame(position: GlobalPosition): EventBuffer {
  return newBuffer().id(encodePosition(position)).dispatch();
}

/** Tells a feed client to reload its list and follow from a fresh position. */
export function feedResetFrame(reason: string): EventBuffer {
  return newBuffer().event('feed.reset').data(JSON.stringify({ reason })).dispatch();
}
