import { join } from 'node:path';
import type { EventStore } from '../../src/store/eventStore.ts';
import { createEventStoreDbEventStore } from '../../src/store/eventStoreDb/index.ts';
import { createPostgresEventStore } from '../../src/store/postgres/index.ts';
import { createSqliteEventStore } from '../../src/store/sqlite/createSqliteEventStore.ts';
import { startEventStoreDbStandIn } from '../support/eventStoreDbStandIn/index.ts';
import { createTestDatabase } from '../support/postgresDatabase.ts';
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

describeAuditChainContract('PostgreSQL (the real server)', async () => {
  const database = await createTestDatabase();
  const open = () => createPostgresEventStore({ connectionString: database.url });
  const store = await open();
  const others: EventStore[] = [];
  return {
    store,
    async openAnother() {
      const another = await open();
      others.push(another);
      return another;
    },
    async dispose() {
      for (const other of others) await other.close();
      await store.close();
      await database.drop();
    },
  };
});
