/** A listener of a follower: receives what changed with each update. */
export type Listener<U> = (update: U) => void;

/**
 * The small observable behind every follower: one immutable `state` object (a new one after
 * each change, so `useSyncExternalStore` and memoized views can compare by identity) and
 * listeners called with what changed. A listener that throws does not stop the others; its
 * error is rethrown asynchronously so it still shows up.
 */
export class Observable<S, U> {
  #state: S;
  readonly #listeners = new Set<Listener<U>>();

  constructor(initial: S) {
    this.#state = initial;
  }

  get state(): S {
    return this.#state;
  }

  /** Calls `listener` after every change; returns the function that removes it. */
  subscribe(listener: Listener<U>): () => void {
    const entry: Listener<U> = (update) => listener(update);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  protected publish(state: S, update: U): void {
    this.#state = state;
    for (const listener of [...this.#listeners]) {
      if (!this.#listeners.has(listener)) continue;
      try {
        listener(update);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
