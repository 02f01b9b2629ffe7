import type { Authenticator } from '../../auth/authenticator.ts';
import type { Principal } from '../../auth/principal.ts';
import { UnauthorizedError } from '../../errors.ts';
import type { HubAuthenticate } from '@statuscast/signalr-server';
import { VerifiedTokenCache } from './verifiedTokenCache.ts';

/**
 * Verifies hub requests with the service's authenticator: the header with `verifyBearer`
 * (user or stream token), the query with `verifyQueryToken` (stream tokens only, so a
 * long-lived user token is never accepted from a URL). Every request is authenticated; a
 * token verified in the last minute (and not expired) is not verified again (`VerifiedTokenCache`).
 */
export function principalAuthentication(authenticator: Authenticator, cache = new VerifiedTokenCache()): HubAuthenticate<Principal> {
  return async (token, source) => {
    const cached = cache.get(token, source, Date.now());
    if (cached !== undefined) return cached;
    try {
      const principal = source === 'header' ? await authenticator.verifyBearer(token) : await authenticator.verifyQueryToken(token);
      const identity = { user: principal, userId: principal.userId, expiresAt: principal.expiresAt };
      cache.put(token, identity, Date.now());
      return identity;
    } catch (error) {
      if (error instanceof UnauthorizedError) return null;
      throw error;
    }
  };
}
