import { describe, expect, it } from 'vitest';
import { GENESIS_HASH } from '../../src/audit/chainHash.ts';
import { type ChainLink, findChainBreak } from '../../src/audit/findChainBreak.ts';

/** Hash of revision r in a synthetic chain: h0, h1, … following the genesis value. */
const h = (r: number) => `h${r}`;
const link = (revision: number, overrides: Partial<ChainLink> = {}): ChainLink => ({
  revision,
  hash: h(revision),
  prevHash: revision === 0 ? GENESIS_HASH : h(revision - 1),
  intact: true,
  ...overrides,
});
const chain = (n: number) => Array.from({ length: n }, (_, r) => link(r));
const check = (links: ChainLink[]) => findChainBreak(links, { startRevision: 0, startHash: GENESIS_HASH });

describe('findChainBreak', () => {
  it('finds nothing in an intact chain', () => {
    expect(check(chain(6))).toBeUndefined();
  });

  it('names an event whose content no longer matches its hash: data changed', () => {
    const links = chain(6);
    links[3] = link(3, { intact: false });
    expect(check(links)).toMatchObject({ revision: 3, reason: 'data changed' });
  });

  it('names the missing revision: event removed', () => {
    expect(check(chain(6).filter((l) => l.revision !== 2))).toMatchObject({ revision: 2, reason: 'event removed', detail: 'revision 2 is missing' });
    expect(check(chain(6).filter((l) => l.revision !== 3 && l.revision !== 4))).toMatchObject({ revision: 3, detail: 'revisions 3–4 are missing' });
  });

  it('tells a swap of lines from a removal: reordered', () => {
    const links = chain(6);
    [links[2], links[3]] = [links[3]!, links[2]!];
    expect(check(links)).toMatchObject({ revision: 2, reason: 'reordered' });
  });

  it('tells swapped contents under unchanged revisions: reordered', () => {
    const links = chain(6);
    links[2] = { ...link(3), revision: 2, intact: false };
    links[3] = { ...link(2), revision: 3, intact: false };
    expect(check(links)).toMatchObject({ revision: 2, reason: 'reordered' });
  });

  it('names a copy of another event’s chain entry, or one with no hash after chained ones: inserted', () => {
    const copied = [...chain(6), { ...link(5), revision: 6, intact: false }];
    expect(check(copied)).toMatchObject({ revision: 6, reason: 'inserted', detail: expect.stringMatching(/repeats the chain hash of revision 5/) });
    const bare = [...chain(6), { revision: 6, hash: undefined, prevHash: undefined, intact: false, legacy: true }];
    expect(check(bare)).toMatchObject({ revision: 6, reason: 'inserted' });
  });

  it('names an event slipped in and the rest renumbered: inserted, at the slipped-in revision', () => {
    const links = [link(0), link(1), { revision: 2, hash: 'forged', prevHash: h(1), intact: true }, { ...link(2), revision: 3, intact: false }];
    expect(check(links)).toMatchObject({ revision: 2, reason: 'inserted' });
  });

  it('names a second branch from one event at the head: inserted', () => {
    const links = [...chain(4), { revision: 4, hash: 'branch', prevHash: h(2), intact: true }];
    expect(check(links)).toMatchObject({ revision: 4, reason: 'inserted' });
  });

  it('names an event rewritten with a recomputed hash by the next one that no longer follows it', () => {
    const links = chain(6);
    links[3] = link(3, { hash: 'recomputed' });
    expect(check(links)).toMatchObject({ revision: 3, reason: 'data changed', detail: expect.stringMatching(/rewritten with a new hash/) });
  });

  it('reports an old prefix without recorded hashes as not recorded, not as tampering', () => {
    const links = [{ revision: 0, hash: undefined, prevHash: undefined, intact: false, legacy: true }, ...chain(3).slice(1)];
    expect(check(links)).toMatchObject({ revision: 0, reason: 'not recorded' });
  });
});
