import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.ts';
import { VerifiedTokenCache } from '../../src/auth/verifiedTokenCache.ts';

const principal = (expiresAtMs: number | null): Principal => ({
  userId: 'u',
  roles: new Set(['publisher']) as Principal['roles'],
  tokenKind: 'user',
  groups: null,
  expiresAt: expiresAtMs === null ? null : new Date(expiresAtMs),
});

describe('VerifiedTokenCache', () => {
  it('stops answering for a token once it expires (with the tolerated skew)', () => {
    let now = 1_000_000;
    const cache = new VerifiedTokenCache({ capacity: 10, ttlMs: 60_000, clockToleranceSeconds: 5, now: () => now });
    cache.set('t', principal(now + 10_000));
    expect(cache.get('t')?.userId).toBe('u');
    now += 14_999;
    expect(cache.get('t')).toBeDefined();
    now += 1;
    expect(cache.get('t')).toBeUndefined();
  });

  it('trusts a verification for the TTL at most, so a withdrawn key stops working', () => {
    let now = 0;
    const cache = new VerifiedTokenCache({ capacity: 10, ttlMs: 60_000, clockToleranceSeconds: 5, now: () => now });
    cache.set('t', principal(10 * 3_600_000));
    now = 59_999;
    expect(cache.get('t')).toBeDefined();
    now = 60_000;
    expect(cache.get('t')).toBeUndefined();
  });

  it('answers only for the exact token text, and never remembers a token without exp', () => {
    const cache = new VerifiedTokenCache({ capacity: 10, ttlMs: 60_000, clockToleranceSeconds: 5 });
    cache.set('abc', principal(Date.now() + 60_000));
    expect(cache.get('abc ')).toBeUndefined();
    expect(cache.get('ab')).toBeUndefined();
    cache.set('noexp', principal(null));
    expect(cache.get('noexp')).toBeUndefined();
  });

  it('holds at most its capacity, evicting the least recently used', () => {
    const cache = new VerifiedTokenCache({ capacity: 2, ttlMs: 60_000, clockToleranceSeconds: 5 });
    const later = Date.now() + 60_000;
    cache.set('a', principal(later));
    cache.set('b', principal(later));
    cache.get('a');
    cache.set('c', principal(later));
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('c')).toBeDefined();
  });
});
