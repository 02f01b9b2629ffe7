import { afterEach, describe, expect, it } from 'vitest';
import { withAuditChain } from '../../src/audit/withAuditChain.ts';
import type { ReportStatus } from '../../src/domain/job/commands.ts';
import { jobStreamName } from '../../src/domain/job/events.ts';
import { collect, type EventStore } from '../../src/store/eventStore.ts';
import { createJobCommandHandler } from '../../src/store/handleJobCommands.ts';
import { createJobDirectory } from '../../src/store/jobDirectory.ts';
import { createSqliteEventStore } from '../../src/store/sqlite/createSqliteEventStore.ts';
import { makeTempDir } from '../support/tempDir.ts';

function report(jobId: string, n: number): ReportStatus {
  return {
    type: 'ReportStatus',
    data: {
      job_id: jobId,
      user_id: 'alice',
      message_id: `contended-${n}`,
      stage: 'work',
      state: 'running',
      message: `step ${n}`,
      artifact: null,
      cycle: null,
      progress: null,
      details: {},
      ts: new Date(Date.UTC(2026, 11, 1, 0, 0, 0, n)).toISOString(),
      meta: null,
    },
  } as unknown as ReportStatus;
}

describe('command handler under contention from other nodes', () => {
  const dirs: { remove(): void }[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) dir.remove();
  });

  it('four handlers (four nodes) appending to one job at once all succeed: conflicts are retried after a jittered pause', async () => {
    const dir = makeTempDir('contention');
    dirs.push(dir);
    const file = `${dir.path}/events.sqlite`;
    // Four connections to one database, as four nodes on one store; each with the audit chain.
    const stores: EventStore[] = Array.from({ length: 4 }, () => withAuditChain(createSqliteEventStore({ file, sync: 'normal' })));
    const handlers = stores.map((store) => createJobCommandHandler({ store, directory: createJobDirectory(store) }));
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, (_, n) => handlers[n % 4]!.handle([{ command: report('contended', n), metadata: { message_id: `contended-${n}` } }])),
      );
      const failed = results.filter((r) => r.status === 'rejected');
      expect(failed.map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      const events = await collect(stores[0]!.readStream(jobStreamName('contended')));
      expect(events.filter((e) => e.type === 'StatusReported')).toHaveLength(200);
    } finally {
      for (const store of stores) await store.close();
    }
  });
});
