/**
 * Wakes waiters when something was appended. Used by in-process subscriptions so that a
 * live subscriber does not poll; a timeout still bounds the wait so that appends made by
 * another process on the same store are noticed too.
 */
export class AppendSignal {
  #waiters = new Set<() => void>();
  #version = 0;

  /** Counts notifications; a reader takes it before reading and passes it to `wait`. */
  get version(): number {
    return this.#version;
  }

  notify(): void {
    this.#version++;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * Resolves on the next `notify()` or after `timeoutMs`, whichever comes first — at once
   * when `seen` (an earlier `version`) is out of date: a notification that arrived while the
   * caller was reading is not lost.
   */
  wait(timeoutMs: number, seen?: number): Promise<void> {
    if (seen !== undefined && seen !== this.#version) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      this.#waiters.add(done);
    });
  }
}
