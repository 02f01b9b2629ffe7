import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { EventStore } from './eventStore.ts';
import { createSqliteEventStore } from './sqlite/createSqliteEventStore.ts';

/**
 * The store the configuration names: PostgreSQL when `DATABASE_URL` is set,
 * EventStoreDB/KurrentDB when `EVENTSTORE_CONNECTION_STRING` is, otherwise the embedded
 * SQLite store in `DATA_DIR`.
 */
export async function createEventStore(config: Config, logger?: Logger): Promise<EventStore> {
  if (config.postgres) {
    // Loaded only when configured, like the gRPC client below.
    const { createPostgresEventStore } = await import('./postgres/index.ts');
    return createPostgresEventStore({
      connectionString: config.postgres.url,
      poolMax: config.postgres.poolMax,
      statementTimeoutMs: config.postgres.statementTimeoutMs,
      logger: logger?.child({ component: 'postgres' }),
    });
  }
  if (config.eventStoreConnectionString) {
    // Loaded only when configured: the gRPC client is heavy and the embedded mode needs none of it.
    const { createEventStoreDbEventStore } = await import('./eventStoreDb/index.ts');
    return createEventStoreDbEventStore({ connectionString: config.eventStoreConnectionString });
  }
  return createSqliteEventStore({ file: join(config.dataDir, 'events.sqlite'), sync: config.storeSync });
}
