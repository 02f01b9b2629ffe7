import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config.ts';
import { createLogger } from '../observability/logger.ts';
import {
  READ_MODEL_PROJECTIONS,
  createProjectionRunner,
  openReadModelDatabase,
  resetReadModels,
} from '../projections/index.ts';
import { createEventStore } from '../store/createEventStore.ts';

/**
 * `npm run rebuild-projections`: empties the read models and replays them from the store.
 * Safe while the service runs: its projection notices the moved checkpoint and follows.
 */
try {
  const config = loadConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const started = Date.now();
  const store = await createEventStore(config);
  const db = openReadModelDatabase(join(config.dataDir, 'read-models.sqlite'));
  resetReadModels(db, READ_MODEL_PROJECTIONS);
  const runner = createProjectionRunner({ store, db, projections: READ_MODEL_PROJECTIONS, logger });
  await runner.start();
  await runner.stop();
  const jobs = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM jobs').get()!.n;
  const entries = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM timeline').get()!.n;
  db.close();
  await store.close();
  process.stdout.write(
    `rebuilt read models from the store: ${jobs} jobs, ${entries} timeline entries in ${Date.now() - started} ms\n`,
  );
} catch (error) {
  console.error(`statuscast: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
