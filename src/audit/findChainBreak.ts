import { GENESIS_HASH } from './chainHash.ts';

/**
 * Why a revision does not match. The first five are what an alteration looks like; the last
 * is a stream written before the chain whose hashes were never recorded (run
 * `npm run audit:backfill`), or a checkpoint that is missing altogether.
 */
export const FAILURE_REASONS = [
  'data changed',
  'event removed',
  'reordered',
  'inserted',
  'signature invalid',
  'not recorded',
  'checkpoint missing',
] as const;

export type ChainFailureReason = (typeof FAILURE_REASONS)[number];

export interface ChainFailure {
  /** The first revision that does not match. */
  readonly revision: number;
  readonly reason: ChainFailureReason;
  /** One sentence for a person: what was found at that revision. */
  readonly detail: string;
}

/**
 * One event as the verifier sees it, reduced to what the classification needs so that a
 * 100,000-event stream is a few megabytes: its revision, the hashes it claims, and whether
 * its content matches its claimed hash (computed by the caller with `chainHash`).
 */
export interface ChainLink {
  readonly revision: number;
  /** The hash the event claims (its metadata's or the recorded one); `undefined` when none. */
  readonly hash: string | undefined;
  /** The hash the event claims to follow. */
  readonly prevHash: string | undefined;
  /** `chainHash(event, prevHash) === hash`, and the export's copies of the hashes agree with the metadata. */
  readonly intact: boolean;
  /** The event carries no hash of its own: written before the chain (and maybe recorded since). */
  readonly legacy?: boolean;
}

/**
 * Finds the first revision where the chain breaks and names why, looking ahead where that
 * tells the cases apart (a swapped pair vs a removed event). `startHash` is the hash the
 * first link must follow: the genesis value for a stream read from revision 0.
 */
export function findChainBreak(links: readonly ChainLink[], options: { startRevision: number; startHash: string }): ChainFailure | undefined {
  const byHash = new Map<string, number>();
  const byRevision = new Map<number, number>();
  links.forEach((link, index) => {
    if (link.hash !== undefined && !byHash.has(link.hash)) byHash.set(link.hash, index);
    if (!byRevision.has(link.revision)) byRevision.set(link.revision, index);
  });
  let expected = options.startRevision;
  let prev = options.startHash;
  let seenChained = false;

  for (let i = 0; i < links.length; i++) {
    const link = links[i]!;
    if (link.revision !== expected) {
      if (link.revision < expected) {
        return { revision: expected, reason: 'inserted', detail: `a second event claims revision ${link.revision}, where revision ${expected} was expected` };
      }
      const later = byRevision.get(expected);
      if (later !== undefined && later > i) {
        return { revision: expected, reason: 'reordered', detail: `revision ${expected} comes after revision ${link.revision}` };
      }
      return {
        revision: expected,
        reason: 'event removed',
        detail: link.revision === expected + 1 ? `revision ${expected} is missing` : `revisions ${expected}–${link.revision - 1} are missing`,
      };
    }
    if (link.hash === undefined) {
      return seenChained
        ? { revision: expected, reason: 'inserted', detail: 'the event carries no chain hash: it was not written through the audit chain' }
        : { revision: expected, reason: 'not recorded', detail: 'written before the audit chain and its hashes were never recorded (run npm run audit:backfill)' };
    }
    if (!link.legacy) seenChained = true;
    if (link.prevHash !== prev) {
      const copyOf = byHash.get(link.hash);
      if (copyOf !== undefined && copyOf < i) {
        return { revision: expected, reason: 'inserted', detail: `the event repeats the chain hash of revision ${links[copyOf]!.revision}` };
      }
      const follows = link.prevHash === undefined ? undefined : byHash.get(link.prevHash);
      if (follows !== undefined && follows > i) {
        return { revision: expected, reason: 'reordered', detail: `the event was chained after the one now at revision ${links[follows]!.revision}` };
      }
      if (follows !== undefined && follows < i - 1) {
        const after = links[follows]!.revision;
        return link.intact
          ? { revision: expected, reason: 'inserted', detail: `the event was chained after revision ${after}, which revision ${after + 1} already follows` }
          : { revision: after + 1, reason: 'inserted', detail: `revision ${expected} was chained right after revision ${after}: what lies between was inserted` };
      }
      if (link.intact && i > 0) {
        return {
          revision: expected - 1,
          reason: 'data changed',
          detail: `revision ${expected - 1} is not the event revision ${expected} was chained to: it was rewritten with a new hash`,
        };
      }
      if (link.intact && prev === GENESIS_HASH && expected === 0) {
        return { revision: 0, reason: 'data changed', detail: 'revision 0 does not start from the genesis hash' };
      }
      return { revision: expected, reason: 'event removed', detail: `the event revision ${expected} was chained to is missing` };
    }
    if (!link.intact) {
      return { revision: expected, reason: 'data changed', detail: 'the event does not match its hash: its data, type or metadata were changed' };
    }
    prev = link.hash;
    expected += 1;
  }
  return undefined;
}
