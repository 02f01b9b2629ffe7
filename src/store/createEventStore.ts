import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { EventStore } from './eventStore.ts';
import { createSqliteEventStore } from './sqlite/createSqliteEventStore.ts';

/**
 * The store the configuration names: EventStoreDB/KurrentDB when
 * `EVENTSTORE_CONNECTION_STRING` is set, otherwise the embedded SQLite store in `DATA_DIR`.
 */
export async function createEventStore(config: Config): Promise<EventStore> {
  if (config.eventStoreConnectionString) {
    throw new Error('EVENTSTORE_CONNECTION_STRING is set, but the EventStoreDB adapter is not available in this build yet');
  }
  return createSqliteEventStore({ file: join(config.dataDir, 'events.sqlite'), sync: config.storeSync });
}
