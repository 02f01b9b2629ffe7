import type { HttpTarget } from './http.ts';
import type { Tracked, Tracker } from './tracker.ts';

/** The client kinds a load worker can hold. */
export const CLIENT_KINDS = ['signalr-ws', 'signalr-sse', 'signalr-lp', 'sse', 'ws-peer', 'socketio-peer'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

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
