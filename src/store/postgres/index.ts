export { createPostgresEventStore, type PostgresEventStoreOptions } from './createPostgresEventStore.ts';
export { migrate, MIGRATIONS, type MigrationReport } from './migrations.ts';
export { createAdvisoryLease, type AdvisoryLeaseOptions } from './advisoryLease.ts';
export { postgresConnection } from './postgresConnection.ts';
