import { afterAll, beforeAll } from 'vitest';
import { createPostgresEventStore } from '../../src/store/postgres/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgresDatabase.ts';
import { describeEventStoreContract } from './eventStoreContract.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describeEventStoreContract(
  'PostgreSQL (real server)',
  async () => {
    // One database for the file; each test opens its own store (and re-runs the migrations,
    // which must then do nothing) and works on streams of its own.
    const store = await createPostgresEventStore({ connectionString: database.url, pageSize: 100 });
    return { store, dispose: () => store.close() };
  },
  { atomicMultiStreamAppends: true },
);
