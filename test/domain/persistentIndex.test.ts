import { describe, expect, it } from 'vitest';
import { PersistentIndex } from '../../src/domain/persistentIndex.ts';

describe('PersistentIndex', () => {
  it('finds every key it was given, across many carries', () => {
    let index = PersistentIndex.empty<number>();
    for (let i = 0; i < 5000; i++) index = index.with(`k${i}`, i);
    expect(index.size).toBe(5000);
    for (let i = 0; i < 5000; i += 7) expect(index.get(`k${i}`)).toBe(i);
    expect(index.get('absent')).toBeUndefined();
  });

  it('never changes an index that was already handed out', () => {
    const snapshots: PersistentIndex<number>[] = [];
    let index = PersistentIndex.empty<number>();
    for (let i = 0; i < 300; i++) {
      snapshots.push(index);
      index = index.with(`k${i}`, i);
    }
    snapshots.forEach((snapshot, n) => {
      expect(snapshot.size).toBe(n);
      expect(snapshot.has(`k${n}`)).toBe(false);
      if (n > 0) expect(snapshot.get(`k${n - 1}`)).toBe(n - 1);
    });
  });

  it('keeps the first value for a key', () => {
    const index = PersistentIndex.empty<number>().with('a', 1).with('a', 2);
    expect(index.get('a')).toBe(1);
    expect(index.size).toBe(1);
  });
});
