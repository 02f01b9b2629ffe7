export { createEventStoreDbEventStore, type EventStoreDbEventStoreOptions } from './createEventStoreDbEventStore.ts';
