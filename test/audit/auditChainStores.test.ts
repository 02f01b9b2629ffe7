import { join } from 'node:path';
import { createEventStoreDbEventStore } from '../../src/store/eventStoreDb/index.ts';
import { createSqliteEventStore } from '../../src/store/sqlite/createSqliteEventStore.ts';
import { startEventStoreDbStandIn } from '../support/eventStoreDbStandIn/index.ts';
import { makeTempDir } from '../support/tempDir.ts';
import { describeAuditChainContract } from './auditChainContract.ts';

describeAuditChainContract('embedded SQLite', async () => {
  const dir = makeTempDir('chain');
  const file = join(dir.path, 'events.sqlite');
  const store = createSqliteEventStore({ file, pageSize: 100 });
  return {
    store,
    openAnother: async () => createSqliteEventStore({ file, pageSize: 100 }),
    async dispose() {
      await store.close();
      dir.remove();
    },
  };
});

describeAuditChainContract('the EventStoreDB adapter on the stand-in', async () => {
  const standIn = await startEventStoreDbStandIn();
  const store = createEventStoreDbEventStore({ connectionString: standIn.connectionString });
  return {
    store,
    openAnother: async () => createEventStoreDbEventStore({ connectionString: standIn.connectionString }),
    async dispose() {
      await store.close();
      await standIn.stop();
    },
  };
});
