import { join } from 'node:path';
import { createSqliteEventStore } from '../../src/store/sqlite/createSqliteEventStore.ts';
import { makeTempDir } from '../support/tempDir.ts';
import { describeEventStoreContract } from './eventStoreContract.ts';

describeEventStoreContract(
  'embedded SQLite',
  async () => {
    const dir = makeTempDir('store');
    const store = createSqliteEventStore({ file: join(dir.path, 'events.sqlite'), pageSize: 100 });
    return {
      store,
      async dispose() {
        await store.close();
        dir.remove();
      },
    };
  },
  { atomicMultiStreamAppends: true },
);
