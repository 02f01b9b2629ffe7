/**
 * An immutable string-keyed index with cheap `with`: states can share it, so folding a
 * long stream costs O(n log n) instead of copying a map on every event.
 *
 * Shaped like a binary counter: level i is empty or holds a frozen map of about 2^i
 * entries; inserting carries merged levels upwards. Maps are never mutated after they are
 * published, which keeps `evolve` pure.
 */
export class PersistentIndex<V> {
  static empty<V>(): PersistentIndex<V> {
    return new PersistentIndex<V>([], 0);
  }

  private constructor(
    private readonly levels: readonly (ReadonlyMap<string, V> | undefined)[],
    readonly size: number,
  ) {}

  get(key: string): V | undefined {
    for (const level of this.levels) {
      const value = level?.get(key);
      if (value !== undefined) return value;
    }
    return undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** A new index with `key` set; an existing key keeps its first value. */
  with(key: string, value: V): PersistentIndex<V> {
    if (this.has(key)) return this;
    const levels = [...this.levels];
    let carry = new Map<string, V>([[key, value]]);
    for (let i = 0; ; i++) {
      const level = levels[i];
      if (level === undefined) {
        levels[i] = carry;
        break;
      }
      const merged = new Map(level);
      for (const [k, v] of carry) merged.set(k, v);
      carry = merged;
      levels[i] = undefined;
    }
    return new PersistentIndex(levels, this.size + 1);
  }
}
