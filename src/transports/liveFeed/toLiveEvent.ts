import type { StatusReportedData } from '../../domain/job/events.ts';
import { type LatestStatus, type TimelineEntry, toLatestStatus, toTimelineEntry } from '../../domain/job/timeline.ts';
import { asJobEvent } from '../../store/asJobEvent.ts';
import type { RecordedEvent } from '../../store/eventStore.ts';
import { type GlobalPosition, encodePosition } from '../../store/position.ts';
import type { LiveEvent, TraceContext } from './types.ts';

/**
 * A `StatusReported` prepared for delivery. The JSON texts are built on first use and
 * then shared by every transport and client; a bulk catch-up that never needs them never
 * pays for them.
 */
class PreparedStatus implements LiveEvent {
  readonly jobId: string;
  readonly owner: string;
  readonly revision: number;
  readonly position: GlobalPosition;
  readonly trace: TraceContext | undefined;
  readonly recordedAtMs: number;
  #data: StatusReportedData;
  #entry?: TimelineEntry;
  #latest?: LatestStatus;
  #positionText?: string;
  #timelineEventJson?: string;
  #statusLatestJson?: string;

  constructor(recorded: RecordedEvent, data: StatusReportedData) {
    this.#data = data;
    this.jobId = data.job_id;
    this.owner = data.user_id;
    this.revision = recorded.revision;
    this.position = recorded.position;
    this.recordedAtMs = recorded.recordedAt.getTime();
    this.trace = traceOf(recorded.metadata);
  }

  get entry(): TimelineEntry {
    return (this.#entry ??= toTimelineEntry(this.#data, this.revision));
  }

  get latest(): LatestStatus {
    return (this.#latest ??= toLatestStatus(this.#data, this.revision));
  }

  get positionText(): string {
    return (this.#positionText ??= encodePosition(this.position));
  }

  get timelineEventJson(): string {
    return (this.#timelineEventJson ??= JSON.stringify(
      this.trace ? { job_id: this.jobId, event: this.entry, trace: this.trace } : { job_id: this.jobId, event: this.entry },
    ));
  }

  get statusLatestJson(): string {
    return (this.#statusLatestJson ??= JSON.stringify(this.trace ? { ...this.latest, trace: this.trace } : this.latest));
  }
}

/** The live form of a stored event, or `undefined` when it is not a timeline entry. */
export function toLiveEvent(recorded: RecordedEvent): LiveEvent | undefined {
  const event = asJobEvent(recorded);
  return event?.type === 'StatusReported' ? new PreparedStatus(recorded, event.data) : undefined;
}

function traceOf(metadata: Readonly<Record<string, unknown>>): TraceContext | undefined {
  const traceparent = metadata['traceparent'];
  if (typeof traceparent !== 'string') return undefined;
  const tracestate = metadata['tracestate'];
  return typeof tracestate === 'string' ? { traceparent, tracestate } : { traceparent };
}
