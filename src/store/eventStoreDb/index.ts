export {
  createEventStoreDbEventStore,
  type EventStoreDbEventStoreOptions,
  type SkippedRecord,
  type TruncatingSettings,
} from './createEventStoreDbEventStore.ts';
