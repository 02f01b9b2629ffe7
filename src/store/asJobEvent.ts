import { JOB_EVENT_TYPES, type JobEvent } from '../domain/job/events.ts';
import type { RecordedEvent } from './eventStore.ts';

/**
 * Views a stored event as a job domain event, or `undefined` for a type this version does
 * not know (so a newer writer never breaks an older reader). The store holds only what the
 * domain produced, so the data is trusted as that event's shape.
 */
export function asJobEvent(recorded: RecordedEvent): JobEvent | undefined {
  if (!JOB_EVENT_TYPES.has(recorded.type)) return undefined;
  return { type: recorded.type, data: recorded.data } as unknown as JobEvent;
}
