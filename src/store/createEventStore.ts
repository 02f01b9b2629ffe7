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
    // Loaded only when configured: the gRPC client is heavy and the embedded mode needs none of it.
    const { createEventStoreDbEventStore } = await import('./eventStoreDb/index.ts');
    return createEventStoreDbEventStore({ connectionString: config.eventStoreConnectionString });
  }
  return createSqliteEventStore({ file: join(config.dataDir, 'events.sqlite'), sync: config.storeSync });
}
