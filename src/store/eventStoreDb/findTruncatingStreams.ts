import type { EventStoreDBClient } from '@eventstore/db-client';
import { openSubscription } from './openSubscription.ts';
import { translateError } from './translateError.ts';

/** The stream metadata settings under which the server hides (and a scavenge removes) events. */
export type TruncatingSettings = Partial<Record<'$maxCount' | '$maxAge' | '$tb', number>>;

const TRUNCATING_KEYS = ['$maxCount', '$maxAge', '$tb'] as const;

/**
 * The streams whose name starts with one of `prefixes` and whose current metadata truncates
 * them: `$maxCount`, `$maxAge` or `$tb` (a soft delete writes `$tb`). Metadata lives in
 * `$$<stream>` as `$metadata` events, the newest one in force (client 6.2
 * `setStreamMetadata`); this reads every such event in `$all` once, filtered on the server by
 * the `$$`-prefixed names, and stops when caught up. A later setting is seen at the next call.
 */
export async function findTruncatingStreams(
  client: EventStoreDBClient,
  prefixes: readonly string[],
  signal: AbortSignal,
): Promise<Map<string, TruncatingSettings>> {
  const current = new Map<string, TruncatingSettings>();
  const subscription = openSubscription(client, { from: 'start', filter: { streamNamePrefixes: prefixes.map((p) => `$$${p}`) } });
  const stop = () => void subscription.close();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const message of subscription) {
      if (message.kind === 'caughtUp') break;
      if (message.kind !== 'event' || message.event.type !== '$metadata') continue;
      const stream = message.event.streamId.slice(2);
      const data = message.event.isJson ? message.event.data : undefined;
      const settings: TruncatingSettings = {};
      if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
        for (const key of TRUNCATING_KEYS) {
          const value = (data as Record<string, unknown>)[key];
          if (typeof value === 'number') settings[key] = value;
        }
      }
      if (Object.keys(settings).length > 0) current.set(stream, settings);
      else current.delete(stream);
    }
  } catch (error) {
    throw translateError(error);
  } finally {
    signal.removeEventListener('abort', stop);
    await subscription.close();
  }
  return current;
}
