import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/auth/createAuthenticator.ts';
import { loadOrCreateDevKeys } from '../../src/auth/devKeys.ts';
import { mintDevToken } from '../../src/auth/mintDevToken.ts';
import { createStreamTokens } from '../../src/auth/streamTokens.ts';

async function setUp() {
  const keys = await loadOrCreateDevKeys(mkdtempSync(join(tmpdir(), 'statuscast-auth-')));
  const streamTokens = createStreamTokens(new TextEncoder().encode('a test secret of 32 bytes or more!!'), 60);
  const authenticator = createAuthenticator({ users: { mode: 'dev', keys }, rolesClaim: 'roles', streamTokens });
  return { keys, streamTokens, authenticator };
}

describe('the authenticator remembers verified tokens without widening what they open', () => {
  it('never accepts a user token from a URL, even one it verified from a header a moment ago', async () => {
    const { keys, authenticator } = await setUp();
    const user = await mintDevToken(keys, { sub: 'alice', roles: ['viewer'] });
    expect((await authenticator.verifyBearer(user)).tokenKind).toBe('user');
    expect((await authenticator.verifyBearer(user)).userId).toBe('alice');
    await expect(authenticator.verifyQueryToken(user)).rejects.toThrow(/only stream tokens/);
  });

  it('answers a remembered stream token with the same user and groups, from a header or a URL', async () => {
    const { streamTokens, authenticator } = await setUp();
    const principal = { userId: 'bob', roles: new Set<never>(), tokenKind: 'user' as const, groups: null, expiresAt: null };
    const { token } = await streamTokens.issue(principal, ['job:j-1']);
    for (const verify of [authenticator.verifyQueryToken, authenticator.verifyBearer, authenticator.verifyQueryToken]) {
      const seen = await verify(token);
      expect(seen).toMatchObject({ userId: 'bob', tokenKind: 'stream', groups: ['job:j-1'] });
      expect(seen.roles.size).toBe(0);
    }
  });

  it('still refuses a token that differs by one character from a remembered one', async () => {
    const { keys, authenticator } = await setUp();
    const user = await mintDevToken(keys, { sub: 'carol' });
    await authenticator.verifyBearer(user);
    const forged = user.slice(0, -2) + (user.at(-2) === 'A' ? 'B' : 'A') + user.at(-1);
    await expect(authenticator.verifyBearer(forged)).rejects.toThrow();
  });
});
