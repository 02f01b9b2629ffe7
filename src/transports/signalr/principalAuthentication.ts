import type { Authenticator } from '../../auth/authenticator.ts';
import type { Principal } from '../../auth/principal.ts';
import { UnauthorizedError } from '../../errors.ts';
import type { HubAuthenticate } from '@statuscast/signalr-server';

/**
 * Verifies hub requests with the service's authenticator: the header with `verifyBearer`
 * (user or stream token), the query with `verifyQueryToken` (stream tokens only, so a
 * long-lived user token is never accepted from a URL). Every request is authenticated; the
 * authenticator does not verify a signature again that it verified in the last minute.
 */
export function principalAuthentication(authenticator: Authenticator): HubAuthenticate<Principal> {
  return async (token, source) => {
    try {
      const principal = source === 'header' ? await authenticator.verifyBearer(token) : await authenticator.verifyQueryToken(token);
      return { user: principal, userId: principal.userId, expiresAt: principal.expiresAt };
    } catch (error) {
      if (error instanceof UnauthorizedError) return null;
      throw error;
    }
  };
}
