import type { Readable } from 'node:stream';

/** Pulls a Node readable one item at a time; `release` lets go of it for good. */
export interface ReadablePuller<T> {
  /** The next item; `done` at the end or after `release`; rejects with the stream's error. */
  next(): Promise<IteratorResult<T, undefined>>;
  /**
   * Stops pulling and lets the stream run dry, discarding what is left. A pending `next`
   * resolves `done`.
   */
  release(): void;
}

/**
 * Why not `for await` over the client's streams: its iterator destroys a stream it stops
 * early, which unpipes the gRPC call underneath and leaves it paused with unread messages.
 * Such a call never finishes, and the client's `dispose()` waits for every call it started
 * to finish, so closing the store would hang. Releasing instead keeps the pipe flowing
 * into nothing until the (cancelled) call ends.
 */
export function pullReadable<T>(stream: Readable): ReadablePuller<T> {
  let ended = false;
  let released = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const waiting = wake;
    wake = undefined;
    waiting?.();
  };
  const onEnd = () => {
    ended = true;
    notify();
  };
  const onError = (error: unknown) => {
    failure ??= { error };
    notify();
  };
  stream.on('readable', notify);
  stream.on('end', onEnd);
  stream.on('close', onEnd);
  // Kept after release too: an 'error' without a listener would crash the process.
  stream.on('error', onError);

  return {
    async next() {
      for (;;) {
        if (released) return { done: true, value: undefined };
        const item: T | null = stream.read();
        if (item !== null) return { done: false, value: item };
        if (failure) throw failure.error;
        if (ended) return { done: true, value: undefined };
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
    release() {
      if (released) return;
      released = true;
      stream.off('readable', notify);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.resume();
      notify();
    },
  };
}
