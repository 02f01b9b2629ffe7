/**
 * Test double for token verification: tokens are `user:<id>` or `user:<id>:expires:<ms epoch>`,
 * and anything else is rejected. Not a JWT: the hub server only sees the verified identity.
 */
import type { HubIdentity } from '../../src/index.ts';

export interface TestUser {
  readonly id: string;
}

export function testToken(userId: string, expiresAt?: number): string {
  return expiresAt === undefined ? `user:${userId}` : `user:${userId}:expires:${expiresAt}`;
}

export async function testAuthenticate(token: string): Promise<HubIdentity<TestUser> | null> {
  const match = /^user:([^:]+)(?::expires:(\d+))?$/.exec(token);
  if (match === null) return null;
  const expiresAt = match[2] === undefined ? null : new Date(Number(match[2]));
  if (expiresAt !== null && expiresAt.getTime() <= Date.now()) return null;
  return { user: { id: match[1]! }, userId: match[1]!, expiresAt };
}
