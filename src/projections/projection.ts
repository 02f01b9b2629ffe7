import type { RecordedEvent } from '../store/eventStore.ts';
import type { ReadModelDatabase } from './readModelDatabase.ts';

/**
 * A named read-model definition (style principle 4). The runner calls `apply` inside the
 * transaction that also moves the checkpoint; applying an event twice must do no harm.
 */
export interface Projection {
  readonly name: string;
  readonly canHandle: ReadonlySet<string>;
  /** Prepares statements once and returns the function that applies one event. */
  bind(db: ReadModelDatabase): (event: RecordedEvent) => void;
  /** Deletes everything the projection wrote (for a rebuild). */
  reset(db: ReadModelDatabase): void;
}
