/**
 * Serializes work per key inside one process, so two requests for the same job do not
 * race each other into an optimistic-concurrency conflict. Conflicts with other processes
 * are still caught by the store's expected-revision check.
 */
export class KeyedMutex {
  #tails = new Map<string, Promise<void>>();

  /** Runs `work` while holding every key; keys are taken in sorted order to avoid deadlock. */
  async withKeys<T>(keys: Iterable<string>, work: () => Promise<T>): Promise<T> {
    const releases: (() => void)[] = [];
    try {
      for (const key of [...new Set(keys)].sort()) releases.push(await this.#acquire(key));
      return await work();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  async #acquire(key: string): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => held);
    this.#tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }
}
