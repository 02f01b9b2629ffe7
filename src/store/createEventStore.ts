import { join } from 'node:path';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { Config } from '../config.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { EventStore } from './eventStore.ts';
import { createSqliteEventStore } from './sqlite/createSqliteEventStore.ts';

/** Where an engine adapter reports what an operator should see. Optional: the CLI passes none. */
export interface EventStoreObservers {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

/**
 * The store the configuration names: EventStoreDB/KurrentDB when
 * `EVENTSTORE_CONNECTION_STRING` is set, otherwise the embedded SQLite store in `DATA_DIR`.
 */
export async function createEventStore(config: Config, observers: EventStoreObservers = {}): Promise<EventStore> {
  if (config.eventStoreConnectionString) {
    // Loaded only when configured: the gRPC client is heavy and the embedded mode needs none of it.
    const { createEventStoreDbEventStore } = await import('./eventStoreDb/index.ts');
    const logger = observers.logger?.child({ component: 'eventstoredb' });
    const skipped =
      observers.metrics &&
      new Counter({
        name: 'statuscast_store_skipped_records_total',
        help: 'Records in $all under a job stream name that are not statuscast events (tombstones, bytes), passed over',
        labelNames: ['reason'],
        registers: [observers.metrics.registry],
      });
    return createEventStoreDbEventStore({
      connectionString: config.eventStoreConnectionString,
      onSkippedRecord(record) {
        skipped?.inc({ reason: record.reason });
        logger?.warn(
          { stream: record.stream, type: record.type, position: `${record.position.commit}-${record.position.prepare}`, reason: record.reason },
          'passed over a record that is not a statuscast event (a hard-deleted job stream leaves a $streamDeleted tombstone)',
        );
      },
    });
  }
  return createSqliteEventStore({ file: join(config.dataDir, 'events.sqlite'), sync: config.storeSync });
}
