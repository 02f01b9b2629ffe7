import { backfillJobStreams } from '../audit/backfillJobStreams.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { createEventStore } from '../store/createEventStore.ts';

/**
 * `npm run audit:backfill`: records the hash chain of job streams written before the audit
 * chain existed, beside them (side streams `audit-chain-job-…`), without rewriting an event.
 * The service also does this lazily for a stream it appends to or exports; running this once
 * after upgrading fixes every old stream's hashes as of now (docs/audit.md).
 */
try {
  const started = Date.now();
  const store = await createEventStore(loadConfig());
  let streams = 0;
  let recorded = 0;
  try {
    for await (const outcome of backfillJobStreams(store)) {
      streams += 1;
      recorded += outcome.recorded;
    }
  } finally {
    await store.close();
  }
  process.stdout.write(`recorded the chain of ${recorded} events written before it, in ${streams} job streams, in ${Date.now() - started} ms\n`);
} catch (error) {
  console.error(`statuscast: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
