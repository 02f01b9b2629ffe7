import { JOB_STREAM_PREFIX } from '../domain/job/events.ts';
import { type EventStore, StreamDeletedError } from './eventStore.ts';

/** Answers who owns a job, straight from the store (the read model may lag). */
export interface JobDirectory {
  /** The owner's user id, or `null` when the job does not exist. */
  ownerOf(jobId: string): Promise<string | null>;
  /** Records an owner seen on an event, sparing a later store read. */
  remember(jobId: string, owner: string): void;
}

/**
 * Owners never change, so they are cached (bounded, least recently used evicted).
 * Unknown jobs are not cached: they may be created a moment later.
 */
export function createJobDirectory(store: EventStore, capacity = 50_000): JobDirectory {
  const owners = new Map<string, string>();

  function remember(jobId: string, owner: string): void {
    owners.delete(jobId);
    owners.set(jobId, owner);
    if (owners.size > capacity) owners.delete(owners.keys().next().value!);
  }

  return {
    remember,
    async ownerOf(jobId) {
      const cached = owners.get(jobId);
      if (cached !== undefined) {
        remember(jobId, cached);
        return cached;
      }
      try {
        for await (const event of store.readStream(`${JOB_STREAM_PREFIX}${jobId}`, { maxCount: 1 })) {
          const owner = event.data['user_id'];
          if (typeof owner !== 'string') return null;
          remember(jobId, owner);
          return owner;
        }
      } catch (error) {
        // A job deleted in the store is no job: 404 for everyone, as for one never seen.
        if (error instanceof StreamDeletedError) return null;
        throw error;
      }
      return null;
    },
  };
}
