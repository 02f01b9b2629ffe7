/** Something to run in the lane of its group. */
export interface LaneItem {
  readonly group: string;
}

export interface GroupLanesOptions<T extends LaneItem> {
  /** Items running at once, across groups. */
  readonly maxConcurrent: number;
  /** Items waiting, across groups; beyond it the oldest waiting item is dropped. */
  readonly maxQueued: number;
  /** Runs one item; the next item of the same group starts only once this settles. Must not reject. */
  readonly run: (item: T) => Promise<void>;
  /** An item left the queue unrun because it was the oldest when the queue overflowed. */
  readonly dropped: (item: T) => void;
  /** The number of waiting items changed. */
  readonly depth: (queued: number) => void;
}

interface Entry<T> {
  readonly item: T;
  readonly lane: Lane<T>;
  waiting: boolean;
}

interface Lane<T> {
  readonly group: string;
  readonly entries: Entry<T>[];
  running: boolean;
  inReady: boolean;
}

/**
 * A bounded queue with one ordered lane per group: items of a group run one at a time, in
 * the order they were pushed, while different groups run side by side (up to
 * `maxConcurrent`, taking turns round-robin). The total of waiting items is bounded by
 * `maxQueued`: pushing beyond it drops the oldest waiting item of any group, so memory stays
 * bounded however long the work is stuck. Dropping never reorders what is left.
 */
export class GroupLanes<T extends LaneItem> {
  readonly #options: GroupLanesOptions<T>;
  readonly #lanes = new Map<string, Lane<T>>();
  /** Lanes with waiting items and no item running, in turn order. */
  #ready: Lane<T>[] = [];
  /** Every waiting entry in push order (plus already taken ones, skipped and compacted lazily). */
  #order: (Entry<T> | undefined)[] = [];
  #head = 0;
  #queued = 0;
  #active = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(options: GroupLanesOptions<T>) {
    this.#options = options;
  }

  /** Items waiting (not running). */
  get queued(): number {
    return this.#queued;
  }

  /** Items running now. */
  get active(): number {
    return this.#active;
  }

  push(item: T): void {
    let lane = this.#lanes.get(item.group);
    if (lane === undefined) {
      lane = { group: item.group, entries: [], running: false, inReady: false };
      this.#lanes.set(item.group, lane);
    }
    const entry: Entry<T> = { item, lane, waiting: true };
    lane.entries.push(entry);
    this.#order.push(entry);
    this.#queued += 1;
    this.#markReady(lane);
    if (this.#queued > this.#options.maxQueued) this.#dropOldest();
    this.#compact();
    this.#pump();
  }

  /** Removes every waiting item (running ones finish) and returns them, oldest first. */
  clear(): T[] {
    const cleared: T[] = [];
    for (let index = this.#head; index < this.#order.length; index++) {
      const entry = this.#order[index];
      if (entry?.waiting) {
        entry.waiting = false;
        cleared.push(entry.item);
      }
    }
    this.#order = [];
    this.#head = 0;
    this.#queued = 0;
    this.#ready = [];
    for (const lane of this.#lanes.values()) {
      lane.entries.length = 0;
      lane.inReady = false;
      if (!lane.running) this.#lanes.delete(lane.group);
    }
    this.#options.depth(0);
    this.#settleIdle();
    return cleared;
  }

  /** Resolves once nothing waits and nothing runs. */
  idle(): Promise<void> {
    if (this.#queued === 0 && this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #markReady(lane: Lane<T>): void {
    if (!lane.running && !lane.inReady && lane.entries.length > 0) {
      lane.inReady = true;
      this.#ready.push(lane);
    }
  }

  #dropOldest(): void {
    while (this.#head < this.#order.length) {
      const entry = this.#order[this.#head];
      this.#order[this.#head] = undefined;
      this.#head += 1;
      if (!entry?.waiting) continue;
      // Lanes are FIFO and pushes are in order, so the oldest waiting entry heads its lane.
      entry.lane.entries.shift();
      entry.waiting = false;
      this.#queued -= 1;
      this.#forgetIfDone(entry.lane);
      this.#options.dropped(entry.item);
      return;
    }
  }

  /** Keeps `#order` within twice the waiting items (plus slack): amortized O(1) per push. */
  #compact(): void {
    const length = this.#order.length - this.#head;
    if (length <= 2 * this.#queued + 1024) return;
    this.#order = this.#order.slice(this.#head).filter((entry) => entry?.waiting === true);
    this.#head = 0;
  }

  #pump(): void {
    while (this.#active < this.#options.maxConcurrent && this.#ready.length > 0) {
      const lane = this.#ready.shift()!;
      lane.inReady = false;
      const entry = lane.entries.shift();
      if (entry === undefined) continue;
      entry.waiting = false;
      this.#queued -= 1;
      lane.running = true;
      this.#active += 1;
      void this.#options.run(entry.item).finally(() => {
        this.#active -= 1;
        lane.running = false;
        this.#markReady(lane);
        this.#forgetIfDone(lane);
        this.#pump();
        this.#settleIdle();
      });
    }
    this.#options.depth(this.#queued);
  }

  #forgetIfDone(lane: Lane<T>): void {
    if (!lane.running && lane.entries.length === 0 && this.#lanes.get(lane.group) === lane) this.#lanes.delete(lane.group);
  }

  #settleIdle(): void {
    if (this.#queued !== 0 || this.#active !== 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
