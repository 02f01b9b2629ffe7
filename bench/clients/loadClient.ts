import type { HttpTarget } from './http.ts';
import { tracked, type Tracked, type Tracker } from './tracker.ts';

/** The client kinds a load worker can hold. */
export const CLIENT_KINDS = ['signalr-ws', 'signalr-sse', 'signalr-lp', 'sse', 'ws-peer', 'socketio-peer'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

/** Client kinds of the official-client worker (`officialWorker.ts`). */
export type OfficialKind = 'official-signalr' | 'official-eventsource' | 'official-socketio';

/** What one connection follows: a job (statuscast) or a room (peers). */
export interface Ticket {
  readonly key: string;
  /** Stream token for the job (statuscast only). */
  readonly token?: string;
  /** Last revision already seen: the subscription starts after it. */
  readonly after: number;
}

export interface ClientContext {
  readonly tracker: Tracker;
  readonly target: HttpTarget;
  readonly localAddress: string;
  /** Socket.IO: resume with connection-state recovery. */
  readonly recovery?: boolean;
}

/** One load-generating connection, driven by the worker. */
export interface LoadClient {
  readonly state: Tracked;
  /** Connects and subscribes; resolves once the first catch-up (possibly empty) arrived. */
  open(): Promise<void>;
  /** Keep-alive, as the official clients send it (SignalR WebSockets and SSE). */
  ping(): void;
  /** Drops the connection without a goodbye, as a lost network would. */
  drop(): void;
  /** Reconnects and resumes after `state.last`; resolves once the transport is up again. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

/**
 * What every load client shares: the revisions it counts, and telling a lost transport (the
 * network) from one it ended itself (`drop`, `close`), which must not count as lost.
 */
export abstract class TrackedClient implements LoadClient {
  readonly state: Tracked;
  private ending = false;

  constructor(
    protected readonly ctx: ClientContext,
    protected readonly ticket: Ticket,
  ) {
    this.state = tracked(ticket.key, ticket.after);
  }

  abstract open(): Promise<void>;

  ping(): void {}

  drop(): void {
    this.ending = true;
    this.cut();
  }

  async resume(): Promise<void> {
    this.ending = false;
    await this.reconnect();
  }

  async close(): Promise<void> {
    this.ending = true;
    await this.leave();
  }

  /** Ends the transport at once, with no goodbye. */
  protected abstract cut(): void;

  /** Ends the transport as a client leaving on purpose does; by default the same as `cut`. */
  protected async leave(): Promise<void> {
    this.cut();
  }

  /** Connects again, resuming after `state.last`. */
  protected reconnect(): Promise<void> {
    return this.open();
  }

  /** For the transport's close handler. */
  protected lost(): void {
    if (!this.ending) this.ctx.tracker.markLost(this.state);
  }
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
