import { describe, expect, it } from 'vitest';
import { GroupLanes } from '../../../../src/transports/signalr/azure/groupLanes.ts';

interface Item {
  readonly group: string;
  readonly n: number;
}

/** Lanes whose runs finish only when the test says so. */
function harness(maxConcurrent: number, maxQueued: number) {
  const started: Item[] = [];
  const finishers = new Map<number, () => void>();
  const dropped: Item[] = [];
  const depths: number[] = [];
  const lanes = new GroupLanes<Item>({
    maxConcurrent,
    maxQueued,
    run: (item) =>
      new Promise<void>((resolve) => {
        started.push(item);
        finishers.set(item.n, resolve);
      }),
    dropped: (item) => dropped.push(item),
    depth: (queued) => depths.push(queued),
  });
  async function finish(n: number): Promise<void> {
    const resolve = finishers.get(n);
    if (!resolve) throw new Error(`item ${n} is not running`);
    finishers.delete(n);
    resolve();
    await new Promise((r) => setImmediate(r));
  }
  const running = () => [...finishers.keys()].sort((a, b) => a - b);
  /** Finishes whatever runs until nothing is left. */
  async function finishAll(): Promise<void> {
    while (finishers.size > 0) await finish(running()[0]!);
  }
  return { lanes, started, dropped, depths, finish, finishAll, running };
}

describe('GroupLanes', () => {
  it('runs one item per group at a time, in push order, and groups side by side', async () => {
    const h = harness(8, 100);
    for (let n = 1; n <= 6; n++) h.lanes.push({ group: n % 2 ? 'a' : 'b', n });
    expect(h.running()).toEqual([1, 2]);
    await h.finish(2);
    expect(h.running()).toEqual([1, 4]);
    await h.finish(1);
    await h.finish(4);
    await h.finish(3);
    await h.finish(6);
    await h.finish(5);
    expect(h.started.filter((i) => i.group === 'a').map((i) => i.n)).toEqual([1, 3, 5]);
    expect(h.started.filter((i) => i.group === 'b').map((i) => i.n)).toEqual([2, 4, 6]);
    await h.lanes.idle();
    expect(h.lanes.queued).toBe(0);
    expect(h.lanes.active).toBe(0);
  });

  it('never runs more than maxConcurrent groups at once, and takes turns', async () => {
    const h = harness(2, 100);
    for (const [n, group] of [[1, 'a'], [2, 'b'], [3, 'c'], [4, 'a'], [5, 'd']] as const) h.lanes.push({ group, n });
    expect(h.running()).toEqual([1, 2]);
    await h.finish(1);
    // 'a' goes to the back of the line: c and d were ready before it.
    expect(h.running()).toEqual([2, 3]);
    await h.finish(2);
    expect(h.running()).toEqual([3, 5]);
    await h.finish(3);
    expect(h.running()).toEqual([4, 5]);
  });

  it('drops the oldest waiting item when full, counts it, and keeps each group in order', async () => {
    const h = harness(1, 3);
    h.lanes.push({ group: 'a', n: 1 }); // runs
    h.lanes.push({ group: 'a', n: 2 });
    h.lanes.push({ group: 'b', n: 3 });
    h.lanes.push({ group: 'a', n: 4 });
    expect(h.dropped).toEqual([]);
    h.lanes.push({ group: 'b', n: 5 }); // 4 waiting > 3: the oldest waiting (2) goes
    expect(h.dropped.map((i) => i.n)).toEqual([2]);
    h.lanes.push({ group: 'b', n: 6 }); // then 3
    expect(h.dropped.map((i) => i.n)).toEqual([2, 3]);
    expect(h.lanes.queued).toBe(3);
    await h.finishAll();
    expect(h.started.map((i) => i.n).sort()).toEqual([1, 4, 5, 6]);
    expect(h.started.filter((i) => i.group === 'a').map((i) => i.n)).toEqual([1, 4]);
    expect(h.started.filter((i) => i.group === 'b').map((i) => i.n)).toEqual([5, 6]);
    expect(Math.max(...h.depths)).toBe(3);
  });

  it('stays bounded under a long stall: memory is waiting items only', async () => {
    const h = harness(1, 50);
    h.lanes.push({ group: 'stuck', n: 0 });
    for (let n = 1; n <= 20_000; n++) h.lanes.push({ group: `g${n % 7}`, n });
    expect(h.lanes.queued).toBe(50);
    expect(h.dropped).toHaveLength(20_000 - 50);
    expect(h.dropped[0]!.n).toBe(1);
    expect(h.dropped.at(-1)!.n).toBe(20_000 - 50);
  });

  it('clear() returns what waited, lets running items finish, and idle() resolves after them', async () => {
    const h = harness(1, 100);
    for (let n = 1; n <= 4; n++) h.lanes.push({ group: 'a', n });
    expect(h.lanes.clear().map((i) => i.n)).toEqual([2, 3, 4]);
    let idle = false;
    const waiting = h.lanes.idle().then(() => (idle = true));
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(false);
    await h.finish(1);
    await waiting;
    expect(h.started.map((i) => i.n)).toEqual([1]);
  });
});
