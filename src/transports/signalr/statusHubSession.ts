import { HubError } from '@statuscast/signalr-server';
import type { LiveStream } from './liveStream.ts';

/** The key of the multi-job feed among a connection's subscriptions. */
export const FEED_KEY = 'feed';

export const jobKey = (jobId: string): string => `job:${jobId}`;

/**
 * A connection's subscriptions, keyed by job (or the feed). Subscribing again to the same
 * key replaces the old subscription, so a client can resume from a new revision without
 * Unsubscribe. Everything is closed when the connection ends.
 */
export class StatusHubSession {
  private readonly streams = new Map<string, LiveStream>();
  private disposed = false;

  constructor(private readonly maxSubscriptions: number) {}

  get isDisposed(): boolean {
    return this.disposed;
  }

  get size(): number {
    return this.streams.size;
  }

  /** Throws when adding `key` would exceed the per-connection limit. */
  ensureRoomFor(key: string): void {
    if (this.disposed) throw new HubError('The connection is closing.');
    if (!this.streams.has(key) && this.streams.size >= this.maxSubscriptions) {
      throw new HubError(`Subscription limit reached: at most ${this.maxSubscriptions} per connection.`);
    }
  }

  /** Installs `stream` under `key`, ending the one it replaces. */
  put(key: string, stream: LiveStream): void {
    this.ensureRoomFor(key);
    const previous = this.streams.get(key);
    this.streams.set(key, stream);
    previous?.end();
  }

  /** Ends the subscription under `key`, if any. */
  remove(key: string): void {
    this.streams.get(key)?.end();
  }

  /** Called by a stream when it ended, however it ended. */
  forget(key: string, stream: LiveStream): void {
    if (this.streams.get(key) === stream) this.streams.delete(key);
  }

  dispose(): void {
    this.disposed = true;
    for (const stream of [...this.streams.values()]) stream.end();
    this.streams.clear();
  }
}
