/** A follower the registry can share: what `followJob` and `followJobs` return. */
interface Closable {
  close(): void;
}

interface Entry<F extends Closable> {
  readonly follower: F;
  users: number;
  closeTimer: ReturnType<typeof setTimeout> | undefined;
}

/** How long a follower nobody uses stays open, so a remount (StrictMode, a route change) reuses it. */
const GRACE_MS = 250;

/**
 * Followers shared by the components that follow the same thing: the first `acquire` of a
 * key creates one, the last `release` closes it after a short grace. React's StrictMode
 * mounts, unmounts and mounts again at once; with the grace, that is one follower (and one
 * connection), not two.
 */
export class FollowerRegistry<F extends Closable> {
  readonly #entries = new Map<string, Entry<F>>();

  /** The follower for `key`, if one is open. */
  peek(key: string): F | undefined {
    return this.#entries.get(key)?.follower;
  }

  /** Uses the follower for `key` (creating it with `create`); call the returned function when done. */
  acquire(key: string, create: () => F): () => void {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { follower: create(), users: 0, closeTimer: undefined };
      this.#entries.set(key, entry);
    }
    clearTimeout(entry.closeTimer);
    entry.closeTimer = undefined;
    entry.users++;
    const held = entry;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      held.users--;
      if (held.users > 0) return;
      held.closeTimer = setTimeout(() => {
        if (held.users > 0 || this.#entries.get(key) !== held) return;
        this.#entries.delete(key);
        held.follower.close();
      }, GRACE_MS);
    };
  }
}
