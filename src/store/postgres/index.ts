export { createPostgresEventStore, type PostgresEventStoreOptions } from './createPostgresEventStore.ts';
export { migrate, MIGRATIONS, type MigrationReport } from './migrations.ts';
