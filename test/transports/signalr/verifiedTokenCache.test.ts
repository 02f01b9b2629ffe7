import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.ts';
import { VerifiedTokenCache } from '../../../src/transports/signalr/verifiedTokenCache.ts';

function identity(tokenKind: Principal['tokenKind'], expiresAt: Date | null) {
  const user: Principal = { userId: 'alice', roles: new Set(), tokenKind, groups: tokenKind === 'stream' ? ['job:1'] : null, expiresAt };
  return { user, userId: user.userId, expiresAt };
}

describe('VerifiedTokenCache', () => {
  const now = 1_000_000;

  it('reuses a stream token from a header or a URL, a user token only from a header', () => {
    const cache = new VerifiedTokenCache();
    cache.put('s', identity('stream', null), now);
    cache.put('u', identity('user', null), now);
    expect(cache.get('s', 'query', now)?.user.tokenKind).toBe('stream');
    expect(cache.get('s', 'header', now)?.user.tokenKind).toBe('stream');
    expect(cache.get('u', 'header', now)?.user.tokenKind).toBe('user');
    expect(cache.get('u', 'query', now)).toBeUndefined();
  });

  it('forgets a token after the TTL and never serves it at or beyond its expiry', () => {
    const cache = new VerifiedTokenCache(60_000);
    cache.put('long', identity('user', new Date(now + 3_600_000)), now);
    cache.put('short', identity('stream', new Date(now + 5_000)), now);
    cache.put('expired', identity('stream', new Date(now)), now);
    expect(cache.get('long', 'header', now + 59_999)).toBeDefined();
    expect(cache.get('long', 'header', now + 60_000)).toBeUndefined();
    expect(cache.get('short', 'query', now + 4_999)).toBeDefined();
    expect(cache.get('short', 'query', now + 5_000)).toBeUndefined();
    expect(cache.get('expired', 'query', now)).toBeUndefined();
  });

  it('stays within its bound, dropping the oldest', () => {
    const cache = new VerifiedTokenCache(60_000, 2);
    for (const token of ['a', 'b', 'c']) cache.put(token, identity('stream', null), now);
    expect(cache.size).toBe(2);
    expect(cache.get('a', 'query', now)).toBeUndefined();
    expect(cache.get('c', 'query', now)).toBeDefined();
  });
});
