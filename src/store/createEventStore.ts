import { join } from 'node:path';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import { JOB_STREAM_PREFIX } from '../domain/job/events.ts';
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
 * The store the configuration names: PostgreSQL when `DATABASE_URL` is set,
 * EventStoreDB/KurrentDB when `EVENTSTORE_CONNECTION_STRING` is, otherwise the embedded
 * SQLite store in `DATA_DIR`.
 */
export async function createEventStore(config: Config, observers: EventStoreObservers = {}): Promise<EventStore> {
  if (config.postgres) {
    // Loaded only when configured, like the gRPC client below.
    const { createPostgresEventStore } = await import('./postgres/index.ts');
    return createPostgresEventStore({
      connectionString: config.postgres.url,
      poolMax: config.postgres.poolMax,
      statementTimeoutMs: config.postgres.statementTimeoutMs,
      logger: observers.logger?.child({ component: 'postgres' }),
    });
  }
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
    const truncating =
      observers.metrics &&
      new Gauge({
        name: 'statuscast_store_truncating_job_streams',
        help: 'Job streams whose metadata sets $maxCount, $maxAge or $tb (their events expire), as found at start',
        registers: [observers.metrics.registry],
      });
    return createEventStoreDbEventStore({
      connectionString: config.eventStoreConnectionString,
      retentionCheck: {
        streamNamePrefixes: [JOB_STREAM_PREFIX],
        report(outcome) {
          if (outcome instanceof Error) {
            logger?.warn({ err: { name: outcome.name, message: outcome.message } }, 'could not check job streams for truncating metadata');
            return;
          }
          truncating?.set(outcome.size);
          if (outcome.size === 0) return;
          // Names and settings of the first 20; the count says how many there are in all.
          const streams = Object.fromEntries([...outcome].slice(0, 20));
          logger?.warn(
            { count: outcome.size, streams },
            'job streams carry truncating metadata ($maxCount/$maxAge/$tb): their older events expire and replay by revision is incomplete; remove the settings (see docs/eventstoredb.md)',
          );
        },
      },
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
