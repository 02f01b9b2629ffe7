import type { ChainFailure, ChainLink } from './findChainBreak.ts';

/**
 * The chain checked as it streams past, in constant memory: what the service does while it
 * serves a history page or an export. It finds the first break but, unable to look ahead,
 * names only what one link shows; `findChainBreak` (the verifier) tells a swap from a removal.
 */
export class ChainCheck {
  #expected: number;
  #prev: string;
  #seenChained = false;
  failure: ChainFailure | undefined;

  constructor(start: { revision: number; hash: string }) {
    this.#expected = start.revision;
    this.#prev = start.hash;
  }

  /** Checks the next link; returns the failure when this link is the first break. */
  add(link: ChainLink): ChainFailure | undefined {
    if (this.failure) return undefined;
    const expected = this.#expected;
    let failure: ChainFailure | undefined;
    if (link.revision !== expected) {
      failure = link.revision > expected
        ? { revision: expected, reason: 'event removed', detail: `revision ${expected} is missing or out of order` }
        : { revision: expected, reason: 'inserted', detail: `a second event claims revision ${link.revision}` };
    } else if (link.hash === undefined) {
      failure = this.#seenChained
        ? { revision: expected, reason: 'inserted', detail: 'the event carries no chain hash' }
        : { revision: expected, reason: 'not recorded', detail: 'written before the audit chain; hashes not recorded' };
    } else if (link.prevHash !== this.#prev) {
      failure = { revision: expected, reason: link.intact ? 'data changed' : 'event removed', detail: 'the event does not follow the one before it' };
    } else if (!link.intact) {
      failure = { revision: expected, reason: 'data changed', detail: 'the event does not match its hash' };
    }
    if (!link.legacy) this.#seenChained = true;
    this.#expected = link.revision + 1;
    this.#prev = link.hash ?? this.#prev;
    this.failure = failure;
    return failure;
  }
}
